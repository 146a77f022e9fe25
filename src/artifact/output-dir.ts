import { accessSync, constants, lstatSync, renameSync, type Stats } from 'node:fs';
import { mkdir, readlink, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OciError, usageError } from '../errors.js';
import { clipName } from './entry-name.js';
import { TreePaths } from './tree-paths.js';

/**
 * The output directory of an extraction (unpack.ts): checked before anything is fetched, made when missing, and
 * at the end the staged tree moved into it, planned first so that a conflict changes nothing (steps 2 and 3 at
 * the top of unpack.ts). Also the error every failed write there becomes.
 */

/** The staging directory and the lock file in the target: an archive may not use these names at its top level. */
export const STAGING_PREFIX = '.oci-artifact-staging-';
export const LOCK_NAME = '.oci-artifact-pull.lock';

/**
 * Whether an output directory can be used: 'exists' or 'missing' (its parent exists); a usage error when it is a
 * file, a symbolic link to nothing, or has no parent. Pull calls it before fetching anything.
 */
export async function checkOutputDirectory(target: string, shown = target): Promise<'exists' | 'missing'> {
  const info = await stat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw fsError(err, target);
  });
  if (info !== undefined) {
    if (!info.isDirectory()) throw usageError('OUTPUT_NOT_DIRECTORY', `output path '${shown}' exists and is not a directory`, 'Give --output a directory.');
    return 'exists';
  }
  const link = await readlink(target).catch(() => undefined);
  if (link !== undefined) {
    throw usageError('OUTPUT_DANGLING_LINK', `output path '${shown}' is a symbolic link to '${clipName(link)}', which does not exist`, 'Create the directory it points to, or remove the link.');
  }
  const parent = await stat(dirname(target)).catch(() => undefined);
  if (!parent?.isDirectory()) throw usageError('PATH_NOT_FOUND', `the parent directory of output path '${shown}' does not exist`, 'Create it first.');
  return 'missing';
}

/** Make the target when missing (true when this call made it). */
export async function makeTarget(target: string): Promise<boolean> {
  if ((await checkOutputDirectory(target)) === 'exists') return false;
  try {
    await mkdir(target, { mode: 0o755 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return makeTarget(target); // made by another pull meanwhile
    throw fsError(err, target);
  }
}

/** What writeEntries made below the staging root: each directory's entries ('' for the top level), in order. */
export type StagedTree = Map<string, { name: string; type: 'file' | 'directory' }[]>;

/**
 * Move the staged entries into the target (see the top of unpack.ts): first a plan that only looks (one lstat per
 * entry whose parent directory exists in the target), then the renames.
 */
export async function moveInto(staging: string, target: string, tree: StagedTree): Promise<void> {
  const stagingDevice = lstatSync(staging).dev;
  const from = new TreePaths(staging);
  const to = new TreePaths(target);
  try {
    const renames = planMoves(tree, target, to, stagingDevice);
    let moved = 0;
    try {
      for (const rel of renames) {
        renameSync(from.of(rel), to.of(rel));
        moved++;
      }
    } catch (err) {
      const what = `${moved} of ${renames.length} entries were moved before it failed; pull again to complete it`;
      throw new OciError('WRITE_FAILED', `cannot move '${clipName(renames[moved]!)}' into '${target}': ${(err as NodeJS.ErrnoException).code ?? String(err)}; ${what}`, {
        kind: 'usage',
        cause: err,
      });
    }
  } finally {
    from.close();
    to.close();
  }
}

/** The paths to rename, top down; throws, having changed nothing, when one cannot be moved into place. */
function planMoves(tree: StagedTree, target: string, to: TreePaths, stagingDevice: number): string[] {
  const renames: string[] = [];
  const conflict = (rel: string, there: string, wanted: string): OciError =>
    usageError(
      'OUTPUT_CONFLICT',
      `cannot extract into '${target}': '${clipName(rel)}' is ${there} there, where the artifact has ${wanted}; nothing was changed`,
      'Move it out of the way, or pull into another directory.',
    );
  const checkWritable = (rel: string): void => {
    try {
      accessSync(rel === '' ? target : to.of(rel), constants.W_OK);
    } catch (err) {
      throw fsError(err, rel === '' ? target : rel);
    }
  };
  checkWritable('');
  const pending: string[] = [''];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (const { name, type } of tree.get(dir) ?? []) {
      const rel = dir === '' ? name : `${dir}/${name}`;
      if (dir === '' && (name === LOCK_NAME || name.startsWith(STAGING_PREFIX))) {
        throw usageError('OUTPUT_CONFLICT', `cannot extract '${clipName(rel)}': oci-artifact uses that name in the output directory while it pulls`);
      }
      const there = lstatOrUndefined(to.of(rel), rel);
      if (type === 'file') {
        if (there?.isDirectory()) throw conflict(rel, 'a directory', 'a file');
        renames.push(rel);
      } else if (there === undefined) {
        renames.push(rel); // the whole subtree in one rename
      } else if (there.isSymbolicLink()) {
        throw conflict(rel, 'a symbolic link', 'a directory'); // never write through a link
      } else if (!there.isDirectory()) {
        throw conflict(rel, 'a file', 'a directory');
      } else if (there.dev !== stagingDevice) {
        throw conflict(rel, 'a mount point (another file system)', 'a directory');
      } else {
        checkWritable(rel);
        pending.push(rel);
      }
    }
  }
  return renames;
}

function lstatOrUndefined(path: string, rel: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(err, rel);
  }
}

/** A file-system failure while extracting, as an OciError naming the path (the abort and our own errors pass). */
export function fsError(err: unknown, what: string): unknown {
  if (err instanceof OciError || (err as Error).name === 'AbortError') return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENAMETOOLONG') {
    return usageError('PATH_TOO_LONG', `cannot write '${clipName(what)}': the path is too long for the file system there`, 'Pull into a directory with a shorter path.');
  }
  return new OciError('WRITE_FAILED', `cannot write '${clipName(what)}': ${code ?? String(err)}`, {
    kind: 'usage',
    cause: err,
  });
}
