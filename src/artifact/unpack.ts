import { chmodSync, closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm, rmdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { OciError } from '../errors.js';
import { withLock } from '../layout/lock.js';
import { clipName } from './entry-name.js';
import { fsError, LOCK_NAME, makeTarget, moveInto, STAGING_PREFIX, type StagedTree } from './output-dir.js';
import { TreePaths } from './tree-paths.js';
import { readTar, type TarEntryInfo } from './tar-reader.js';

/**
 * Safe extraction of artifact tarballs (validation rules: tar-reader.ts; listing without writing:
 * archive-entries.ts; the output directory and the final move: output-dir.ts).
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

