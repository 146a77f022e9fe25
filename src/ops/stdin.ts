import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Name given to manifests read from stdin; fixed so the same input always yields the same digest. */
const STDIN_FILE_NAME = 'stdin.yaml';

/**
 * Save stdin to a private temp directory so it can be packed like any file (Flux does the same with `-f -`).
 * The caller removes it.
 */
export async function stageStdin(stdin: NodeJS.ReadableStream): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-artifact-stdin-'));
  const path = join(dir, STDIN_FILE_NAME);
  try {
    // 0644 inside the artifact like any checked-out file; the temp directory itself is private (0700).
    await pipeline(stdin, createWriteStream(path, { mode: 0o644 }));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}
