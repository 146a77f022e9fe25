import { createHash } from 'node:crypto';
import { accessSync, chmodSync, closeSync, constants, lstatSync, mkdirSync, openSync, renameSync, writeSync, type Stats } from 'node:fs';
import { mkdir, mkdtemp, readlink, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { OciError, usageError } from '../errors.js';
import { withLock } from '../layout/lock.js';
import { clipName } from './entry-name.js';
import { TreePaths } from './tree-paths.js';
import { readTar, type TarEntryInfo } from './tar-reader.js';

/**
 * Safe extraction and listing of artifact tarballs (validation rules: tar-reader.ts).
 *
 * extractArchive writes what Flux's Untar and tar write: the archive's files overwrite same-named files of the
 * target, everything else in the target is kept (a file the user added to `base/` survives a pull that has
 * `base/`). It is all or nothing for the archive's own files:
 *  1. The target is made when missing (its parent must exist), and the archive is extracted into a private staging
 *     directory inside it, which is removed on any failure (with the target, when this call made it).
 *  2. Only after the tar was fully read AND the source stream ended without error (digest verified), under a lock
 *     file in the target (two pulls into one directory move one after the other, never interleaved), the move is
 *     planned: where the target has a file, a link or a mount point where the archive has a directory, or a
 *     directory where the archive has a file, or cannot be written, the pull stops there with nothing changed.
 *  3. Then each entry is renamed into place: a directory the target lacks is moved whole (one rename for the
 *     whole subtree, so a fresh target costs one rename per top-level entry), a file replaces the target's file or
 *     link of that name atomically. A failure in this phase (an I/O error) says which entries were already moved.
 * Modes, as Flux's Untar sets them: a file gets its archive permission bits (never setuid/setgid/sticky), a
 * directory entry its bits plus owner rwx, a directory the archive only implies 0o755; the umask then applies to
 * all of them, so under `umask 077` nothing extracted is readable by others. A directory that already exists
 * keeps its mode. Symlink entries are not created (like Flux) and are reported in `skipped`.
 */
export interface ExtractOptions {
  /** Uncompressed bytes; default 100 MiB like Flux; 0 = unlimited. */
  maxSize?: number;
  signal?: AbortSignal;
}

export interface ExtractResult {
  files: number;
  /** Content bytes written. */
  bytes: number;
  /** Paths of symlink entries that were not created. */
  skipped: string[];
}

export interface ArchiveEntry {
  /** Normalised, no './', no trailing slash. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  /** `sha256:<hex>` of a file's content. */
  sha256?: string;
  /** A file's content, when `keepContent` asked for it. */
  content?: Buffer;
  /** Where a symlink entry points (never followed). */
  linkTarget?: string;
}

export interface ReadEntriesOptions {
  maxSize?: number;
  signal?: AbortSignal;
  /** Return true to keep a file's bytes in `content` (keep it to small files: they are held in memory). */
  keepContent?: (path: string, size: number) => boolean;
}

export async function extractArchive(source: Readable, targetDir: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  // The source may already be flowing and fail (digest check) while we prepare the staging dir below; keep that
  // error from being "unhandled": the pipeline in readTar still sees it, as the stream is left errored.
  source.on('error', () => undefined);
  const target = resolve(targetDir);
  const created = await makeTarget(target);
  let staging: string | undefined;
  let done = false;
  try {
    staging = await mkdtemp(join(target, STAGING_PREFIX)).catch((err: unknown) => {
      throw fsError(err, target);
    });
    const { result, tree } = await writeEntries(source, staging, options);
    await withLock(join(target, LOCK_NAME), () => moveInto(staging!, target, tree), {
      signal: options.signal,
      what: `output directory ${target}`,
    });
    done = true;
    return result;
  } finally {
    if (staging !== undefined) await rm(staging, { recursive: true, force: true });
    // Only when empty: another pull may be staging in it by now.
    if (created && !done) await rmdir(target).catch(() => undefined);
  }
}

/** Every entry (the root excepted) with its digest, validated exactly as for extraction; nothing is written. */
export async function readArchiveEntries(source: Readable, options: ReadEntriesOptions = {}): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  await readTar(source, options, async (info, body) => {
    if (info.path === '') return;
    const entry: ArchiveEntry = { path: info.path, type: info.type, mode: info.mode, size: info.size };
    if (info.linkTarget !== undefined) entry.linkTarget = info.linkTarget;
    if (info.type === 'file') {
      const keep = options.keepContent?.(info.path, info.size) ?? false;
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      for await (const chunk of body) {
        hash.update(chunk);
        if (keep) chunks.push(chunk);
      }
      entry.sha256 = `sha256:${hash.digest('hex')}`;
      if (keep) entry.content = Buffer.concat(chunks);
    }
    entries.push(entry);
  });
  return entries;
}

/** The staging directory and the lock file in the target: an archive may not use these names at its top level. */
const STAGING_PREFIX = '.oci-artifact-staging-';
const LOCK_NAME = '.oci-artifact-pull.lock';

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
async function makeTarget(target: string): Promise<boolean> {
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
type StagedTree = Map<string, { name: string; type: 'file' | 'directory' }[]>;

/**
 * Move the staged entries into the target (see the top of this file): first a plan that only looks (one lstat per
 * entry whose parent directory exists in the target), then the renames.
 */
async function moveInto(staging: string, target: string, tree: StagedTree): Promise<void> {
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

/**
 * Entries are written with synchronous calls, as the packer reads them (pack.ts): an asynchronous call is a hop
 * through libuv's small thread pool (open, write per chunk, close per file; mkdir per directory), and those hops queued behind the gunzip work
 * on the same pool, so a 2048-file pull spent most of its time waiting. A write into the page cache takes microseconds; the event loop is held for one gunzip chunk
 * at most, since an entry's data arrives as slices of those chunks.
 */
async function writeEntries(source: Readable, root: string, options: ExtractOptions): Promise<{ result: ExtractResult; tree: StagedTree }> {
  const result: ExtractResult = { files: 0, bytes: 0, skipped: [] };
  const tree: StagedTree = new Map();
  const record = (rel: string, type: 'file' | 'directory'): void => {
    const parent = parentOf(rel);
    const name = parent === '' ? rel : rel.slice(parent.length + 1);
    const siblings = tree.get(parent);
    if (siblings === undefined) tree.set(parent, [{ name, type }]);
    else siblings.push({ name, type });
  };
  // Read once: mkdir and open apply it themselves, the chmod of a directory entry made earlier as a parent does not.
  const umask = process.umask();
  const madeDirs = new Set<string>(['']);
  const paths = new TreePaths(root);
  /**
   * Make `rel` and any missing parents, top down, without recursion (paths are up to 2048 levels deep). `mode` is a
   * directory entry's; a directory only implied by a deeper path gets 0o755 (both less the umask).
   * No realpath check: the staging directory is ours (mkdtemp, 0700), every directory in it is made here by mkdir
   * (which never follows a link) and every file with O_EXCL|O_NOFOLLOW, so no path in it can lead elsewhere.
   */
  const ensureDir = (rel: string, mode?: number): void => {
    const missing: string[] = [];
    for (let dir = rel; !madeDirs.has(dir); dir = parentOf(dir)) missing.push(dir);
    try {
      if (missing.length === 0 && mode !== undefined) chmodSync(paths.of(rel), mode & ~umask);
      for (let i = missing.length - 1; i >= 0; i--) {
        mkdirSync(paths.of(missing[i]!), { mode: i === 0 && mode !== undefined ? mode : 0o755 });
        madeDirs.add(missing[i]!);
        record(missing[i]!, 'directory');
      }
    } catch (err) {
      throw fsError(err, rel);
    }
  };

  try {
    await readTar(source, options, (info, body) => writeEntry(info, body));
  } finally {
    paths.close();
  }
  return { result, tree };

  async function writeEntry(info: TarEntryInfo, body: ReadEntry): Promise<void> {
    if (info.type === 'symlink') {
      result.skipped.push(info.path);
      return;
    }
    if (info.type === 'directory') {
      if (info.path !== '') ensureDir(info.path, (info.mode & 0o777) | 0o700);
      return;
    }
    ensureDir(parentOf(info.path));
    const abs = join(root, info.path);
    if (!abs.startsWith(root + sep)) throw new OciError('UNSAFE_ARCHIVE', `refusing to write '${clipName(info.path)}' outside the target`);
    let fd: number;
    try {
      // O_EXCL + O_NOFOLLOW: never overwrite, never write through a link. The umask applies to the mode.
      fd = openSync(paths.of(info.path), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, info.mode & 0o777);
    } catch (err) {
      throw fsError(err, info.path);
    }
    try {
      await drainInto(fd, body);
    } catch (err) {
      throw fsError(err, info.path);
    } finally {
      closeSync(fd);
    }
    record(info.path, 'file');
    result.files++;
    result.bytes += info.size;
  }
}

/** Write every chunk of `body` to `fd` as it arrives; settles when the entry ended, failed or was stopped. */
function drainInto(fd: number, body: ReadEntry): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Listen for the end (or a stop: Ctrl-C, a failed source destroys the entry) before the data starts flowing.
    body.promise().then(resolve, reject);
    let failed = false;
    body.on('data', (chunk: Buffer) => {
      if (failed) return; // the reader drains the rest once this entry's handler has failed
      try {
        for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done);
      } catch (err) {
        failed = true;
        reject(err);
      }
    });
  });
}

/** '' for a top-level path. */
function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

function fsError(err: unknown, what: string): unknown {
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
