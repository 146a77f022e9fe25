import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, unlinkSync, type Stats, type WriteStream } from 'node:fs';
import { chmod, link, lstat, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * Leaf: writing a whole file so that a reader sees the old file or the new one, never a partial one. The content
 * goes to a temporary file beside the target (created exclusively, with the mode asked for), which is then renamed
 * over the target. On any failure the temporary file is removed and the target is as it was; a process that exits
 * before that (a second Ctrl-C) still removes it, as it removes every file given to trackTempFile.
 *
 * It imports nothing of src/ so that every area may use it (`output` may not import `layout`, for one); callers
 * turn its plain Node errors into their own `OciError`s.
 */

/** What a file is written from: bytes, text (UTF-8), or a stream read to its end. */
export type FileContent = string | Uint8Array | NodeJS.ReadableStream;

export interface AtomicWriteOptions {
  /** Permission bits of the file, narrowed by the umask as open(2) does (default 0o666). */
  mode?: number;
  /** Set `mode` exactly once the file is created, so the umask cannot narrow it (a secret's 0o600). */
  exactMode?: boolean;
  /** Take the mode of the regular file being replaced, when there is one, instead of `mode`. */
  keepMode?: boolean;
  /** Replace only a regular file: a directory, symbolic link, device or pipe at the target is refused, untouched. */
  regularFileOnly?: boolean;
  /** fsync the file before the rename, so that a crash cannot leave an empty file under the target's name. */
  flush?: boolean;
  /** Streams the content passes through on its way to the file (a digest check, a progress tap). */
  through?: NodeJS.ReadWriteStream[];
  /** Stops a streamed write; the temporary file is removed and the pipeline's AbortError thrown. */
  signal?: AbortSignal;
  /** The temporary file, from tempFileFor(target), for a caller that must know it first (a packer leaves it out). */
  temp?: string;
}

/** The target exists and is not a regular file, with `regularFileOnly` asked for. */
export class NotRegularFileError extends Error {
  override readonly name = 'NotRegularFileError';
  constructor(readonly path: string, readonly stats: Stats) {
    super(`${path} exists and is not a regular file`);
  }
}

/** A temporary file written whole beside its target, waiting to be put in place (or discarded). */
export interface StagedFile {
  /** Where the content is now. */
  readonly temp: string;
  /** Rename over `target`: the one it was staged for, or another name in the same directory (a digest learnt at the end). */
  replace(target?: string): Promise<void>;
  /** Link into place only if nothing is there (EEXIST otherwise, with `dest` naming the target); the temp file stays for discard(). */
  create(): Promise<void>;
  /** Remove the temporary file if it is still there. */
  discard(): Promise<void>;
}

/** Write `content` to `target` in one rename; see the module comment. */
export async function writeFileAtomic(target: string, content: FileContent, options: AtomicWriteOptions = {}): Promise<void> {
  const staged = await stageFile(target, content, options);
  try {
    await staged.replace();
  } catch (err) {
    await staged.discard();
    throw err;
  }
}

/**
 * Write `content` to a temporary file beside `target` and hand it back unplaced, for a caller that places several
 * files together (a key pair: both written before either is placed) or places it with `create()` (no overwrite).
 */
export async function stageFile(target: string, content: FileContent, options: AtomicWriteOptions = {}): Promise<StagedFile> {
  const existing = options.regularFileOnly || options.keepMode ? await replaceableTarget(target, options.regularFileOnly) : undefined;
  const mode = options.keepMode && existing?.isFile() ? existing.mode & 0o777 : options.mode ?? 0o666;
  const temp = options.temp ?? tempFileFor(target);
  trackTempFile(temp);
  let file: WriteStream | undefined;
  try {
    if (typeof content === 'string' || content instanceof Uint8Array) {
      await writeFile(temp, content, { flag: 'wx', mode, flush: options.flush ?? false });
    } else {
      file = createWriteStream(temp, { flags: 'wx', mode, flush: options.flush ?? false });
      await pipeline([content, ...(options.through ?? []), file], { signal: options.signal });
    }
    if (options.exactMode) await chmod(temp, mode);
  } catch (err) {
    // A destroyed stream may still be opening its file: wait for it to close so the unlink below finds it.
    if (file !== undefined && !file.closed) await once(file, 'close').catch(() => undefined);
    await removeTempFile(temp);
    throw err;
  }
  return {
    temp,
    async replace(to = target) {
      await rename(temp, to);
      untrackTempFile(temp);
    },
    create: () => link(temp, target),
    discard: () => removeTempFile(temp),
  };
}

/**
 * The file at `path` when it may be replaced (undefined when there is none). With `regularFileOnly`, anything but
 * a regular file is refused with NotRegularFileError; other lstat failures are thrown as they are.
 */
export async function replaceableTarget(path: string, regularFileOnly = true): Promise<Stats | undefined> {
  const existing = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (regularFileOnly && existing !== undefined && !existing.isFile()) throw new NotRegularFileError(path, existing);
  return existing;
}

/**
 * A fresh name beside `target`: `.<name>.<12 hex>.tmp`, 18 bytes longer than the name (callers that take names
 * from elsewhere keep room for it). The leading dot keeps it out of listings and apart from digest-named blobs.
 */
export function tempFileFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Temporary files not yet placed or removed; the process removes them when it exits (a second Ctrl-C exits at once). */
const liveTemps = new Set<string>();
let exitHookInstalled = false;

/** Remove `path` if the process exits before removeTempFile or untrackTempFile is called for it. */
export function trackTempFile(path: string): void {
  liveTemps.add(path);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const temp of liveTemps) {
      try {
        unlinkSync(temp);
      } catch {
        // already gone
      }
    }
  });
}

/** `path` was renamed into place: nothing is left to remove at exit. */
export function untrackTempFile(path: string): void {
  liveTemps.delete(path);
}

/** Whether `path` is a temporary file still to be removed (a bundle closing its files asks). */
export function isTrackedTempFile(path: string): boolean {
  return liveTemps.has(path);
}

/** Remove a temporary file now (if it is still there) and forget it. */
export async function removeTempFile(path: string): Promise<void> {
  liveTemps.delete(path);
  await unlink(path).catch(() => undefined);
}
