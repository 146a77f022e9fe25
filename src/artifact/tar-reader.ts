import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { formatBytes } from '../bytes.js';
import { OciError } from '../errors.js';
import { clipName, entryNameProblem } from './entry-name.js';

/**
 * The one reader of artifact tarballs (extract, diff, inspect): gzip check -> gunzip -> size cap -> node-tar's
 * Parser -> strict validation of every entry -> a callback per entry, in archive order.
 *
 * Refused (OciError UNSAFE_ARCHIVE): absolute names, names the packer refuses too (entry-name.ts: `..`,
 * backslashes, NUL, too long), hardlinks, devices, FIFOs, unknown entry types, a path that appears twice (except a repeated directory), anything below a file or a
 * symlink entry. Accepted: `./` prefixes, a `.` root directory entry, PAX and GNU long names, missing directory
 * entries. Symlink entries are passed on (the caller decides; extraction skips them, like Flux).
 *
 * The promise settles only once the source stream itself has finished: a VerifyingStream source fails at its end
 * when the digest is wrong, and that must fail the read even after the last tar block was parsed.
 */
const DEFAULT_MAX_SIZE = 100 * 1024 * 1024;

export interface TarEntryInfo {
  /** Normalised: no `./`, no trailing slash; '' for the root directory. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  /** Mode bits as stored (permissions plus setuid/setgid/sticky). */
  mode: number;
  size: number;
  linkTarget?: string;
}

export interface ReadTarOptions {
  /** Cap on the uncompressed tar size in bytes (headers included); default 100 MiB like Flux; 0 = no cap. */
  maxSize?: number;
  signal?: AbortSignal;
}

/** Called once per entry; a file's `body` must be consumed before the returned promise settles. */
export type TarEntryHandler = (entry: TarEntryInfo, body: ReadEntry) => Promise<void>;

/**
 * zlib runs each step on the thread pool and hands back one output buffer per hop: with the default 16 KiB a
 * 256 MiB layer took 16k hops, each waiting for the main thread. 1 MiB buffers make 256 hops of it (256 KiB: about
 * 10% more CPU in zlib's bookkeeping), and the read-ahead lets inflation continue while tarSink parses and writes.
 */
const GUNZIP_OPTIONS = { chunkSize: 1024 * 1024, readableHighWaterMark: 4 * 1024 * 1024 };
/**
 * What tarSink accepts before it pushes back: a few of the gunzip buffers above, so the one being parsed and
 * written does not stop the next from being inflated (see tarSink's write).
 */
const SINK_HIGH_WATER_MARK = 4 * 1024 * 1024;

export async function readTar(source: Readable, options: ReadTarOptions, onEntry: TarEntryHandler): Promise<void> {
  const maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
  try {
    await pipeline(source, gzipGuard(), createGunzip(GUNZIP_OPTIONS), sizeCap(maxSize), tarSink(onEntry), { signal: options.signal });
  } catch (err) {
    throw mapReadError(err);
  }
}

/**
 * Normalise a tar entry name (drop `./`, empty components and a trailing slash), refusing anything that could point
 * outside the extraction directory or that the packer would not write (entry-name.ts).
 */
export function normaliseEntryPath(raw: string, type: TarEntryInfo['type']): string {
  if (raw.startsWith('/')) throw unsafe(`entry name ${JSON.stringify(clipName(raw))} is an absolute path`);
  const path = raw.split('/').filter((part) => part !== '' && part !== '.').join('/');
  const problem = path === '' ? undefined : entryNameProblem(path, type);
  if (problem !== undefined) throw unsafe(`entry name ${JSON.stringify(clipName(raw))} ${problem}`);
  return path;
}

function unsafe(message: string): OciError {
  return new OciError('UNSAFE_ARCHIVE', `refusing the archive: ${message}`, {
    hint: 'Nothing was written. The artifact was not built by a Flux-compatible tool, or was tampered with.',
  });
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

function entryInfo(entry: ReadEntry): TarEntryInfo {
  const mode = entry.mode ?? 0;
  const name = clipName(entry.path);
  if (FILE_TYPES.has(entry.type)) return { path: normaliseEntryPath(entry.path, 'file'), type: 'file', mode, size: entry.size };
  if (entry.type === 'Directory') return { path: normaliseEntryPath(entry.path, 'directory'), type: 'directory', mode, size: 0 };
  if (entry.type === 'SymbolicLink') {
    return { path: normaliseEntryPath(entry.path, 'symlink'), type: 'symlink', mode, size: 0, linkTarget: entry.linkpath ?? '' };
  }
  if (entry.type === 'Link') throw unsafe(`entry '${name}' is a hard link`);
  if (entry.type === 'CharacterDevice' || entry.type === 'BlockDevice') throw unsafe(`entry '${name}' is a device`);
  if (entry.type === 'FIFO') throw unsafe(`entry '${name}' is a FIFO`);
  throw unsafe(`entry '${name}' has the unsupported type ${entry.type}`);
}

/**
 * Remembers what each path is, so nothing is written twice, below a file, or through a symlink. Every ancestor of a
 * recorded path is recorded as a directory, so a check walks up only to the nearest known ancestor: the work per
 * entry is the length of its path, not its depth squared (a 2,000-level path checked each level's prefix).
 */
class PathTracker {
  private readonly kinds = new Map<string, TarEntryInfo['type']>();

  check({ path, type }: TarEntryInfo): void {
    if (path === '') {
      if (type !== 'directory') throw unsafe(`the root entry is a ${type}, not a directory`);
      return;
    }
    const existing = this.kinds.get(path);
    if (existing !== undefined && !(existing === 'directory' && type === 'directory')) {
      throw unsafe(`'${clipName(path)}' appears twice in the archive`);
    }
    const newAncestors: string[] = [];
    for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
      const ancestor = path.slice(0, slash);
      const kind = this.kinds.get(ancestor);
      if (kind === 'directory') break;
      if (kind === 'file') throw unsafe(`'${clipName(path)}' lies below the file '${clipName(ancestor)}'`);
      if (kind === 'symlink') throw unsafe(`'${clipName(path)}' would be written through the symlink '${clipName(ancestor)}'`);
      newAncestors.push(ancestor);
    }
    for (const ancestor of newAncestors) this.kinds.set(ancestor, 'directory');
    this.kinds.set(path, type);
  }
}

function tarSink(onEntry: TarEntryHandler): Writable {
  const parser = new Parser({ strict: true, brotli: false, zstd: false });
  const tracker = new PathTracker();
  let work = Promise.resolve();
  let failure: unknown;
  const fail = (err: unknown): void => {
    if (failure !== undefined) return;
    failure = err;
    sink.destroy(err as Error);
  };
  parser.on('error', (err: Error) => fail(parserError(err)));
  // node-tar "ignores" entries of unknown types and over-long metadata; we refuse them.
  parser.on('ignoredEntry', (entry: ReadEntry) => fail(unsafe(`entry '${clipName(entry.path)}' has the unsupported type ${entry.type}`)));
  let current: ReadEntry | undefined;
  parser.on('entry', (entry: ReadEntry) => {
    work = work.then(async () => {
      if (failure === undefined) {
        current = entry;
        try {
          const info = entryInfo(entry);
          tracker.check(info);
          await onEntry(info, entry);
        } catch (err) {
          fail(err);
        } finally {
          current = undefined;
        }
      }
      entry.resume();
    });
  });
  const parsed = new Promise<void>((resolve) => parser.on('end', () => resolve()));
  const sink: Writable = new Writable({
    highWaterMark: SINK_HIGH_WATER_MARK,
    // Parse (and so extract) on the next tick, not inside the write: gunzip hands over its output from its thread-pool
    // callback and asks for the next inflation only after that hand-over returns, so working inside it made
    // inflation and extraction take turns; deferred, the next buffer inflates while this one is written.
    write(chunk: Buffer, _encoding, callback) {
      process.nextTick(() => {
        if (failure !== undefined) callback(); // stopped meanwhile: destroy() settles the sink, nothing more is parsed
        else if (parser.write(chunk)) callback();
        else parser.once('drain', () => callback());
      });
    },
    final(callback) {
      parser.end();
      parsed
        .then(() => work)
        .then(() => callback(failure === undefined ? null : (failure as Error)), callback);
    },
    // Stopped (Ctrl-C, timeout, a failed source): take no more entries, end the one being written, and settle only
    // once the handlers are done, so nothing is written after readTar rejects (the caller removes its temp dir).
    destroy(err, callback) {
      if (failure === undefined) failure = err ?? new Error('the archive reader was stopped');
      current?.destroy();
      void work.then(() => callback(err));
    },
  });
  return sink;
}

/** Checks the gzip magic up front, so "not gzip" and "empty" get their own clear message. */
function gzipGuard(): Transform {
  const head: number[] = [];
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      for (let i = 0; head.length < 2 && i < chunk.length; i++) head.push(chunk[i]!);
      if (head.length === 2 && (head[0] !== 0x1f || head[1] !== 0x8b)) {
        callback(notGzip('the layer is not gzip-compressed'));
        return;
      }
      callback(null, chunk);
    },
    flush(callback) {
      callback(head.length < 2 ? notGzip(head.length === 0 ? 'the layer is empty' : 'the layer is not gzip-compressed') : null);
    },
  });
}

function notGzip(message: string): OciError {
  return new OciError('NOT_GZIP', `${message} (expected a gzip'd tar)`, {
    hint: 'Pick the content layer with --layer-media-type or --layer-index, or fetch the raw blob instead.',
  });
}

/** Counts uncompressed bytes against the cap (a gzip bomb stops here), and refuses gzip inside gzip. */
function sizeCap(maxSize: number): Transform {
  let total = 0;
  const head: number[] = [];
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      for (let i = 0; head.length < 2 && i < chunk.length; i++) head.push(chunk[i]!);
      // node-tar would silently gunzip a second time: a tar never starts with these bytes.
      if (head.length === 2 && head[0] === 0x1f && head[1] === 0x8b && total < 2) {
        callback(unsafe('the layer is gzip inside gzip'));
        return;
      }
      total += chunk.length;
      if (maxSize > 0 && total > maxSize) {
        callback(
          new OciError('ARCHIVE_TOO_LARGE', `the archive unpacks to more than ${formatBytes(maxSize)}`, {
            hint: 'Raise the limit with --max-size (0 disables it) if you trust this artifact.',
          }),
        );
        return;
      }
      callback(null, chunk);
    },
  });
}

function parserError(err: Error & { tarCode?: string }): OciError {
  const detail = err.message.replace(/^TAR_[A-Z_]+: /, '');
  if (/Truncated input/.test(detail)) {
    return new OciError('ARCHIVE_TRUNCATED', `the tar archive is truncated: ${detail}`, { cause: err });
  }
  if (/Unrecognized archive format/.test(detail)) {
    return new OciError('ARCHIVE_INVALID', 'the layer is gzip-compressed but holds no tar archive (no valid entries)', { cause: err });
  }
  return new OciError('ARCHIVE_INVALID', `the tar archive is invalid: ${detail}`, { cause: err });
}

function mapReadError(err: unknown): unknown {
  if (err instanceof OciError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR') {
    return new OciError('ARCHIVE_TRUNCATED', 'the gzip stream ends early (truncated download?)', { cause: err });
  }
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new OciError('ARCHIVE_INVALID', `corrupt gzip data: ${(err as Error).message}`, { cause: err });
  }
  return err;
}
