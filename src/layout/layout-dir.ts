import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { OciError } from '../errors.js';
import { readIndex, writeIndex } from './index-file.js';
import { withLock, type LockOptions } from './lock.js';
import { BLOBS_DIR, LAYOUT_FILE, LAYOUT_VERSION, LOCK_FILE } from './paths.js';

/** Check that `root` holds an OCI image layout, or create one there (only in a missing or empty directory). */
export async function prepareLayout(root: string, create: boolean, lock: LockOptions): Promise<void> {
  const info = await stat(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (info === undefined) {
    if (!create) {
      throw new OciError('LAYOUT_NOT_FOUND', `OCI layout ${root} does not exist`, {
        kind: 'usage',
        hint: 'check the path; pushing to a path that does not exist creates the layout',
      });
    }
    await mkdir(root, { recursive: true });
  } else if (!info.isDirectory()) {
    throw invalid(root, 'it is not a directory');
  }

  if (!(await exists(join(root, LAYOUT_FILE)))) {
    if (!create) throw invalid(root, `it has no '${LAYOUT_FILE}' file`);
    await withLock(join(root, LOCK_FILE), () => initialize(root), lock);
  }
  await checkLayoutFile(root);
  await readIndex(root);
}

/**
 * Runs under the index lock, so concurrent creators take turns: the first writes the layout, the others find
 * `oci-layout` present. A directory holding anything else is never turned into a layout.
 */
async function initialize(root: string): Promise<void> {
  if (await exists(join(root, LAYOUT_FILE))) return;
  const others = (await readdir(root)).filter((name) => name !== LOCK_FILE);
  if (others.length > 0) throw invalid(root, `it is not empty and has no '${LAYOUT_FILE}' file`);
  await mkdir(join(root, BLOBS_DIR, 'sha256'), { recursive: true });
  await writeIndex(root, { schemaVersion: 2, manifests: [] });
  // oci-layout last: its presence tells other processes the layout is complete.
  await writeFileAtomic(join(root, LAYOUT_FILE), JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }), { flush: true });
}

async function checkLayoutFile(root: string): Promise<void> {
  let version: unknown;
  try {
    version = (JSON.parse(await readFile(join(root, LAYOUT_FILE), 'utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (err) {
    throw invalid(root, `its '${LAYOUT_FILE}' file is not readable JSON`, err);
  }
  if (version !== LAYOUT_VERSION) {
    throw invalid(root, `its imageLayoutVersion is ${JSON.stringify(version)}, expected "${LAYOUT_VERSION}"`);
  }
}

function invalid(root: string, why: string, cause?: unknown): OciError {
  return new OciError('LAYOUT_INVALID', `${root} is not an OCI image layout: ${why}`, {
    kind: 'usage',
    cause,
    hint: 'point to a directory holding oci-layout, index.json and blobs/, or to a new path to create one',
  });
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
