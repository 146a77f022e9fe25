import { realpath, stat } from 'node:fs/promises';
import { lstatSync, readdirSync, readSync, realpathSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { OciError, usageError } from '../errors.js';
import { clipName, entryNameProblem } from './entry-name.js';
import { createIgnoreMatcher, type IgnoreOptions } from './ignore.js';

/**
 * The one walk of a local tree, shared by pack (tar entries) and listLocalFiles (diff), so both always agree on
 * what "the content" is.
 *
 * Order: depth first, each directory's names sorted by their UTF-8 bytes, like Go's filepath.Walk (Flux). That
 * is NOT a sort of full paths: `a/b` comes before `a-c`, because `a` sorts before `a-c` in the parent.
 * A name an artifact may not hold (entry-name.ts) is a usage error, after the ignore rules had their say.
 * Only directories and regular files are yielded; symlinks are skipped unless `resolveSymlinks`, which yields
 * their targets under the link's name (a directory link whose real path is already being walked above it is
 * yielded as an empty directory, which breaks cycles the way Flux's ResolveSymlinks does). Other file types
 * (sockets, FIFOs, devices) are always skipped.
 */
export interface WalkOptions extends IgnoreOptions {
  resolveSymlinks?: boolean;
  /** Absolute paths never yielded (e.g. the archive being written, when it lies inside the tree). */
  exclude?: ReadonlySet<string>;
}

export interface WalkEntry {
  /** '/'-separated path relative to the root; '' for the root directory itself. */
  rel: string;
  /** Path to read the content from (the real path for a resolved symlink). */
  source: string;
  type: 'directory' | 'file';
  /** Permission bits plus setuid/setgid/sticky, as Go's tar.FileInfoHeader keeps them. */
  mode: number;
  /** Bytes, for files; 0 for directories. */
  size: number;
}

/**
 * Flux stages a single file in a fresh os.MkdirTemp directory (mode 0700) before archiving, so its root entry
 * has that mode; we write the same bytes without staging.
 */
const SINGLE_FILE_ROOT_MODE = 0o700;

/** Stat the input, with a usage error when it is missing. */
export async function statInput(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw pathNotFound(path);
    throw new OciError('PATH_UNREADABLE', `cannot read '${path}': ${code ?? String(err)}`, { kind: 'usage', cause: err });
  }
}

export function pathNotFound(path: string): OciError {
  return usageError('PATH_NOT_FOUND', `path '${path}' does not exist`, 'Pass an existing directory or file with --path.');
}

export async function* walkTree(path: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const root = resolve(path);
  const rootStat = await statInput(root);
  if (rootStat.isFile()) {
    const matcher = await createIgnoreMatcher(undefined, options);
    yield { rel: '', source: root, type: 'directory', mode: SINGLE_FILE_ROOT_MODE, size: 0 };
    const name = basename(root);
    if (!matcher(name, false) && !options.exclude?.has(root)) {
      checkName(name, 'file');
      yield { rel: name, source: await realpath(root), type: 'file', mode: modeOf(rootStat), size: rootStat.size };
    }
    return;
  }
  if (!rootStat.isDirectory()) {
    throw usageError('PATH_NOT_REGULAR', `path '${path}' is neither a directory nor a regular file`);
  }
  const matcher = await createIgnoreMatcher(root, options);
  yield { rel: '', source: root, type: 'directory', mode: modeOf(rootStat), size: 0 };
  yield* walkDirectory(root, '', new Set([await realpath(root)]), matcher, options);
}

/**
 * Directories are listed and entries stat'ed with synchronous calls, as files are read (readExactlySync): each
 * asynchronous call is a hop through libuv's thread pool, and with the compressor keeping both cores busy the
 * main thread waited on each of those hops to be scheduled (about 0.6 s over the 2048 lstat calls of bench/
 * section d's tree). A stat of a cached inode takes microseconds.
 */
function* walkDirectory(
  dir: string,
  rel: string,
  ancestors: Set<string>,
  matcher: (relPath: string, isDir: boolean) => boolean,
  options: WalkOptions,
): Generator<WalkEntry> {
  const names = sortByBytes(readDirectory(dir), (name) => name);
  for (const name of names) {
    const full = join(dir, name);
    const childRel = rel === '' ? name : `${rel}/${name}`;
    if (options.exclude?.has(full)) continue;
    let info = lstatEntry(full);
    let source = full;
    if (info.isSymbolicLink()) {
      if (!options.resolveSymlinks) continue;
      source = resolveLink(full, childRel);
      info = lstatEntry(source);
    }
    if (info.isDirectory()) {
      if (matcher(childRel, true)) continue;
      checkName(childRel, 'directory');
      yield { rel: childRel, source, type: 'directory', mode: modeOf(info), size: 0 };
      const real = source === full ? realpathSync.native(full) : source;
      if (ancestors.has(real)) continue;
      ancestors.add(real);
      yield* walkDirectory(source, childRel, ancestors, matcher, options);
      ancestors.delete(real);
    } else if (info.isFile()) {
      if (matcher(childRel, false)) continue;
      checkName(childRel, 'file');
      yield { rel: childRel, source, type: 'file', mode: modeOf(info), size: info.size };
    }
  }
}

/** A name the unpacker (and Flux) would refuse is refused here, so no push makes an artifact pull cannot read. */
function checkName(rel: string, type: 'file' | 'directory'): void {
  const problem = entryNameProblem(rel, type);
  if (problem === undefined) return;
  throw usageError('PATH_NAME_INVALID', `cannot pack '${clipName(rel)}': the path ${problem}`, 'Rename it, or leave it out with --ignore-paths.');
}

/**
 * `items` ordered by the UTF-8 bytes of their keys, as Go sorts names. Byte order is code point order, and
 * JavaScript's string comparison (UTF-16 units) agrees with it except for characters above U+FFFF, whose
 * surrogates sort below U+E000-U+FFFF: only keys holding one are compared as bytes, each encoded once. (Encoding
 * both names at every comparison made the sort of a 50,000-name directory take seconds, growing faster per name.)
 */
export function sortByBytes<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const keyed = items.map((item) => ({ item, key: keyOf(item), bytes: EMPTY }));
  if (keyed.some(({ key }) => SURROGATE.test(key))) {
    for (const k of keyed) k.bytes = Buffer.from(k.key);
    keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  } else {
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  return keyed.map(({ item }) => item);
}

const SURROGATE = /[\uD800-\uDFFF]/;
const EMPTY = Buffer.alloc(0);

function modeOf(info: Stats): number {
  return info.mode & 0o7777;
}

function readDirectory(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    throw new OciError('PATH_UNREADABLE', `cannot list '${dir}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      kind: 'usage',
      cause: err,
    });
  }
}

function lstatEntry(path: string): Stats {
  try {
    return lstatSync(path);
  } catch (err) {
    throw new OciError('PATH_UNREADABLE', `cannot stat '${path}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      kind: 'usage',
      cause: err,
    });
  }
}

function resolveLink(full: string, rel: string): string {
  try {
    return realpathSync.native(full);
  } catch (err) {
    throw usageError(
      'SYMLINK_UNRESOLVABLE',
      `symlink '${rel}' cannot be resolved (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      'Fix or remove the link, or drop --resolve-symlinks to skip symlinks.',
    );
  }
}

/**
 * Fill `target` with exactly its length of bytes from an open descriptor, with synchronous reads; then check that
 * nothing follows when `last`: a file that shrank or grew since its stat is an error.
 */
export function readExactlySync(fd: number, target: Buffer, rel: string, last: boolean): void {
  for (let filled = 0; filled < target.length; ) {
    const bytesRead = readSync(fd, target, filled, target.length - filled, null);
    if (bytesRead === 0) throw fileChanged(rel);
    filled += bytesRead;
  }
  if (last && readSync(fd, Buffer.allocUnsafe(1), 0, 1, null) !== 0) throw fileChanged(rel);
}

function fileChanged(rel: string): OciError {
  return usageError('FILE_CHANGED', `file '${rel}' changed size while it was being read`, 'Retry when nothing is writing to the directory.');
}
