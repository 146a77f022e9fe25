import { createHash } from 'node:crypto';
import { closeSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { tempFileFor, writeFileAtomic } from '../atomic-write.js';
import { OciError } from '../errors.js';
import { HashingStream } from '../ref/digest.js';
import { createGzipStream } from './gzip.js';
import { walkInput, type PackInput } from './sources.js';
import { fileChunks, openForRead, Scratch, tarChunks, tarTotals } from './tar-writer.js';
import { pathNotFound, type WalkOptions } from './walk.js';

/**
 * Directory (or single file) -> deterministic tar (tar-writer.ts) -> gzip, streamed in constant memory.
 *
 * The tar is what `flux push artifact` writes (see tar-header.ts and walk.ts): a `.` root entry, then every
 * directory and regular file in Go's walk order, named relative to the root, uid/gid 0, no owner names, mtime 0,
 * permission bits kept. Nothing of the machine (times, owners, walk order of the filesystem) reaches the bytes,
 * so the same tree always gives the same diff_id, and with the same compressor the same layer digest.
 */
export interface PackOptions {
  /** Replaces the default ignore patterns. */
  ignorePaths?: string[];
  /** Appended to the ignore patterns. */
  addIgnorePaths?: string[];
  /** Pack the targets of symlinks under the links' names (default: skip symlinks, like Flux). */
  resolveSymlinks?: boolean;
  /** gzip level 0-9 (default 6, as Flux). */
  compressionLevel?: number;
  signal?: AbortSignal;
  /**
   * Called as the tar is written, with how much of it is done; the totals come from a first walk of the tree
   * (names and sizes only), made only when this is given.
   */
  onProgress?: (progress: PackProgress) => void;
}

/** Files and tar bytes written so far, out of the totals for the whole tree. */
export interface PackProgress {
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
  done?: boolean;
}

export interface PackSummary {
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: string;
  uncompressedSize: number;
  /** Regular files packed. */
  files: number;
}

export interface PackedStream {
  /** The gzip'd tar. Errors (unreadable file, abort) are raised on this stream. */
  stream: Readable;
  /** Settles once the whole tar went into the compressor; rejects with the stream's error. */
  summary: Promise<PackSummary>;
}

export interface LocalFile {
  /** '/'-separated path relative to the packed root. */
  path: string;
  mode: number;
  size: number;
  /** `sha256:<hex>` of the content. */
  sha256: string;
}

export function packArtifact(input: PackInput, options: PackOptions = {}): PackedStream {
  return packWith(input, options, undefined);
}

/**
 * Write the gzip'd tar to `outFile` through a temp file beside it and a rename, so a reader never sees half an
 * archive. When `outFile` (or its temp file) lies inside the packed tree, it is left out of the archive.
 */
export async function writeArchiveFile(
  input: PackInput,
  options: PackOptions,
  outFile: string,
): Promise<PackSummary & { digest: string; size: number }> {
  const target = resolve(outFile);
  const temp = tempFileFor(target);
  const packed = packWith(input, options, new Set([target, temp]));
  const hashing = new HashingStream();
  try {
    await writeFileAtomic(target, packed.stream, { mode: 0o644, through: [hashing], signal: options.signal, temp });
    return { ...(await packed.summary), ...hashing.result() };
  } catch (err) {
    throw asWriteError(err, outFile);
  }
}

/** The files a push of `input` would contain, with their content digests, in archive order (for diff). */
export async function listLocalFiles(
  input: PackInput,
  options: Pick<PackOptions, 'ignorePaths' | 'addIgnorePaths' | 'resolveSymlinks'> = {},
  /** Filled with where each file's content is on disk, by its path in the artifact. */
  onDisk?: Map<string, string>,
): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  const scratch = new Scratch();
  const walkOptions: WalkOptions = { ignorePaths: options.ignorePaths, addIgnorePaths: options.addIgnorePaths, resolveSymlinks: options.resolveSymlinks };
  for await (const entry of walkInput(input, walkOptions)) {
    if (entry.type !== 'file') continue;
    const fd = openForRead(entry);
    try {
      const hash = createHash('sha256');
      for (const chunk of fileChunks(fd, entry, scratch)) hash.update(chunk);
      files.push({ path: entry.rel, mode: entry.mode, size: entry.size, sha256: `sha256:${hash.digest('hex')}` });
      onDisk?.set(entry.rel, entry.source);
    } finally {
      closeSync(fd);
    }
  }
  return files;
}

function packWith(input: PackInput, options: PackOptions, exclude: ReadonlySet<string> | undefined): PackedStream {
  // Fail now, not on first read, for the commonest mistake.
  for (const path of typeof input === 'string' ? [input] : input.map((s) => s.path)) {
    try {
      statSync(path);
    } catch {
      throw pathNotFound(path);
    }
  }
  const counter = { files: 0 };
  const walkOptions: WalkOptions = {
    ignorePaths: options.ignorePaths,
    addIgnorePaths: options.addIgnorePaths,
    resolveSymlinks: options.resolveSymlinks,
    exclude,
  };
  const gzip = createGzipStream({ level: options.compressionLevel ?? 6 });
  // The reader of `stream` sees its errors; this listener only keeps one from being "unhandled" before it reads.
  gzip.on('error', () => undefined);
  const pieces = tarChunks(input, walkOptions, counter, new Scratch());
  const summary = feed(gzip, options.onProgress ? withProgress(input, walkOptions, pieces, counter, options.onProgress) : pieces, options.signal).then(({ digest, size }) => {
    return { diffId: digest, uncompressedSize: size, files: counter.files };
  });
  // The caller may only read the stream; its error reaches them there, so this copy must not be "unhandled".
  summary.catch(() => undefined);
  return { stream: gzip, summary };
}

/**
 * Write the tar into the compressor, hashing it on the way (the diff_id). Each piece is written once the
 * compressor has taken the previous one (its write callback: the bytes were copied into a block), so the tar
 * generator can read every file into the same scratch buffer: no buffer per file for the GC to find.
 * Errors and aborts destroy the compressor, so its reader sees them.
 */
async function feed(gzip: Transform, pieces: AsyncIterable<Buffer>, signal: AbortSignal | undefined): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const onAbort = (): void => {
    gzip.destroy(abortError(signal!));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // A write or end waiting for room never calls back once the compressor is destroyed (abort, or its reader
  // gave up): every wait also ends when it closes.
  const closed = new Promise<never>((_, reject) => {
    gzip.once('close', () => reject(gzip.errored ?? new Error('the compressed stream was closed before the end')));
  });
  closed.catch(() => undefined);
  try {
    if (signal?.aborted) throw abortError(signal);
    for await (const piece of pieces) {
      hash.update(piece);
      size += piece.length;
      await Promise.race([closed, new Promise<void>((resolve, reject) => gzip.write(piece, (err) => (err ? reject(err) : resolve())))]);
    }
    await Promise.race([closed, new Promise<void>((resolve, reject) => gzip.end((err?: Error | null) => (err ? reject(err) : resolve())))]);
    return { digest: `sha256:${hash.digest('hex')}`, size };
  } catch (err) {
    gzip.destroy(err as Error);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** What a stream pipeline raises when its signal fires (the CLI reports the signal's reason, its `cause`). */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

/** Passes the tar pieces on, reporting the bytes done and the files whose record was written in full. */
async function* withProgress(
  input: PackInput,
  options: WalkOptions,
  pieces: AsyncGenerator<Buffer>,
  counter: { files: number },
  onProgress: (progress: PackProgress) => void,
): AsyncGenerator<Buffer> {
  const totals = await tarTotals(input, options);
  let bytes = 0;
  const report = (done?: boolean) => onProgress({ files: counter.files, totalFiles: totals.files, bytes, totalBytes: totals.bytes, done });
  report();
  for await (const piece of pieces) {
    bytes += piece.length;
    report();
    yield piece;
  }
  report(true);
}

function asWriteError(err: unknown, outFile: string): unknown {
  if (err instanceof OciError || (err as Error).name === 'AbortError') return err;
  return new OciError('WRITE_FAILED', `cannot write '${outFile}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
    kind: 'usage',
    cause: err,
  });
}
