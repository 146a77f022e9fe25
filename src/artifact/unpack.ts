import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, mkdirSync, openSync, writeSync } from 'node:fs';
import { chmod, lstat, mkdtemp, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { OciError, usageError } from '../errors.js';
import { clipName } from './entry-name.js';
import { StagingPaths } from './staging-paths.js';
import { readTar, type TarEntryInfo } from './tar-reader.js';

/**
 * Safe extraction and listing of artifact tarballs (validation rules: tar-reader.ts).
 *
 * extractArchive writes into a fresh temp directory beside `targetDir` and moves the result into place only
 * after the tar was fully read AND the source stream ended without error (digest verified). On any failure the
 * temp directory is removed and `targetDir` is as before.
 *  - `targetDir` missing: the temp directory is renamed to it (its parent must exist).
 *  - `targetDir` present: each top-level entry of the archive replaces the same-named entry of `targetDir` as a
 *    whole (a stale file inside a replaced directory does not survive); other entries of `targetDir` are kept.
 * Modes, as Flux's Untar sets them: a file gets its archive permission bits (never setuid/setgid/sticky), a
 * directory entry its bits plus owner rwx, a directory the archive only implies 0o755; the umask then applies to
 * all of them, so under `umask 077` nothing extracted is readable by others. Symlink entries are not created
 * (like Flux) and are reported in `skipped`.
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
  // The source may already be flowing and fail (digest check) while we prepare the temp dir below; keep that
  // error from being "unhandled": the pipeline in readTar still sees it, as the stream is left errored.
  source.on('error', () => undefined);
  const target = resolve(targetDir);
  const targetExists = await checkTarget(target);
  const temp = await mkdtemp(join(dirname(target), `.${basename(target)}.extract-`));
  try {
    const result = await writeEntries(source, await realpath(temp), options);
    if (targetExists) {
      await mergeInto(temp, target);
    } else {
      await chmod(temp, 0o755 & ~process.umask()); // mkdtemp made it private
      await rename(temp, target);
    }
    return result;
  } finally {
    await rm(temp, { recursive: true, force: true });
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

/** True when the target exists (as a directory); a usage error when it cannot be used. */
async function checkTarget(target: string): Promise<boolean> {
  try {
    if (!(await stat(target)).isDirectory()) {
      throw usageError('TARGET_NOT_DIRECTORY', `'${target}' exists and is not a directory`, 'Choose another output directory.');
    }
    return true;
  } catch (err) {
    if (err instanceof OciError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, target);
  }
  try {
    if (!(await stat(dirname(target))).isDirectory()) throw new Error('not a directory');
  } catch {
    throw usageError('PATH_NOT_FOUND', `the parent directory of '${target}' does not exist`, 'Create it first.');
  }
  return false;
}

/**
 * Entries are written with synchronous calls, as the packer reads them (pack.ts): an asynchronous call is a hop
 * through libuv's small thread pool (open, write per chunk, close per file; mkdir per directory), and those hops queued behind the gunzip work
 * on the same pool, so a 2048-file pull spent most of its time waiting. A write into the page cache takes microseconds; the event loop is held for one gunzip chunk
 * at most, since an entry's data arrives as slices of those chunks.
 */
async function writeEntries(source: Readable, root: string, options: ExtractOptions): Promise<ExtractResult> {
  const result: ExtractResult = { files: 0, bytes: 0, skipped: [] };
  // Read once: mkdir and open apply it themselves, the chmod of a directory entry made earlier as a parent does not.
  const umask = process.umask();
  const madeDirs = new Set<string>(['']);
  const paths = new StagingPaths(root);
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
  return result;

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

/**
 * Move the extracted top-level entries into an existing target. Same-named entries are first moved aside into
 * a backup directory, so a failure half way can put everything back.
 */
async function mergeInto(temp: string, target: string): Promise<void> {
  const names = await readdir(temp);
  const backup = await mkdtemp(join(dirname(target), `.${basename(target)}.replaced-`));
  const movedAside: string[] = [];
  const placed: string[] = [];
  try {
    for (const name of names) {
      if (await exists(join(target, name))) {
        await rename(join(target, name), join(backup, name));
        movedAside.push(name);
      }
      await rename(join(temp, name), join(target, name));
      placed.push(name);
    }
  } catch (err) {
    let restored = true;
    for (const name of placed) await rm(join(target, name), { recursive: true, force: true }).catch(() => undefined);
    for (const name of movedAside) {
      await rename(join(backup, name), join(target, name)).catch(() => {
        restored = false;
      });
    }
    // Never delete the user's previous files: keep the backup when they could not all be put back.
    if (restored) await rm(backup, { recursive: true, force: true });
    const detail = restored ? '' : `; the replaced entries are kept in '${backup}'`;
    throw new OciError('WRITE_FAILED', `cannot move the extracted files into '${target}'${detail}`, { kind: 'usage', cause: err });
  }
  await rm(backup, { recursive: true, force: true });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
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
