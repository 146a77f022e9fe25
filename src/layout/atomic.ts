import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { tempPath } from './paths.js';

/** Replace `target` in one rename, so a reader sees the old or the new file, never a partial one. */
export async function writeFileAtomic(target: string, data: string | Buffer): Promise<void> {
  const temp = tempPath(dirname(target), basename(target));
  try {
    await writeFile(temp, data, { flag: 'wx', flush: true });
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
