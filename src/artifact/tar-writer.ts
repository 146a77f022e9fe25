import { closeSync, constants, openSync } from 'node:fs';
import { OciError } from '../errors.js';
import { END_OF_ARCHIVE, encodeTarHeader, padding } from './tar-header.js';
import { walkInput, type PackInput } from './sources.js';
import { readExactlySync, type WalkEntry, type WalkOptions } from './walk.js';

/**
 * The tar of a walked input, as a sequence of pieces: one header per directory, one record per regular file (its
 * header, content and padding), then the end marker. Layout byte for byte: tar-header.ts; what is walked:
 * walk.ts. pack.ts compresses and hashes these pieces.
 */

/**
 * One buffer, grown as needed and reused for every file's tar record: a piece yielded from it is valid only until
 * the generator is resumed (feed() writes it into the compressor before asking for the next).
 */
export class Scratch {
  private buffer = Buffer.alloc(0);

  get(size: number): Buffer {
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(Math.max(size, 64 * 1024));
    return this.buffer.subarray(0, size);
  }
}

export async function* tarChunks(input: PackInput, options: WalkOptions, counter: { files: number }, scratch: Scratch): AsyncGenerator<Buffer> {
  for await (const entry of walkInput(input, options)) {
    const name = entry.rel === '' ? '.' : entry.rel;
    if (entry.type === 'directory') {
      yield encodeTarHeader({ name, type: 'directory', mode: entry.mode, size: 0 });
      continue;
    }
    yield* fileRecord(entry, encodeTarHeader({ name, type: 'file', mode: entry.mode, size: entry.size }), scratch);
    counter.files++;
  }
  yield END_OF_ARCHIVE;
}

/** How much the tar of `input` will hold: regular files and bytes (headers, content, padding, end marker). */
export async function tarTotals(input: PackInput, options: WalkOptions): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = END_OF_ARCHIVE.length;
  for await (const entry of walkInput(input, options)) {
    bytes += 512;
    if (entry.type !== 'file') continue;
    files++;
    bytes += entry.size + (entry.size % 512 === 0 ? 0 : 512 - (entry.size % 512));
  }
  return { files, bytes };
}

/** Largest read, and largest file packed as one buffer with its header and padding. */
const READ_CHUNK = 1024 * 1024;

/**
 * One file's tar record. Files are read with synchronous calls: every asynchronous one is a hop through libuv's
 * thread pool, and with the compressor keeping both cores busy those hops (four per file) made packing a tree
 * of many small files wait far longer than it read (bench/ section d: about half the wall time of a 2048-file
 * push). A read from the page cache takes microseconds; the event loop is never held longer than one READ_CHUNK.
 */
function* fileRecord(entry: WalkEntry, header: Buffer, scratch: Scratch): Generator<Buffer> {
  const fd = openForRead(entry);
  try {
    const pad = entry.size % 512 === 0 ? 0 : 512 - (entry.size % 512);
    if (entry.size <= READ_CHUNK) {
      const record = scratch.get(header.length + entry.size + pad);
      header.copy(record, 0);
      readExactlySync(fd, record.subarray(header.length, header.length + entry.size), entry.rel, true);
      record.fill(0, header.length + entry.size);
      yield record;
      return;
    }
    yield header;
    yield* fileChunks(fd, entry, scratch);
    if (pad > 0) yield padding(entry.size);
  } finally {
    closeSync(fd);
  }
}

/** A file's content in READ_CHUNK pieces (each valid until the next is read), checked to be exactly `entry.size` bytes. */
export function* fileChunks(fd: number, entry: WalkEntry, scratch: Scratch): Generator<Buffer> {
  if (entry.size === 0) readExactlySync(fd, Buffer.alloc(0), entry.rel, true);
  for (let remaining = entry.size; remaining > 0; ) {
    const chunk = scratch.get(Math.min(READ_CHUNK, remaining));
    remaining -= chunk.length;
    readExactlySync(fd, chunk, entry.rel, remaining === 0);
    yield chunk;
  }
}

/** O_NOFOLLOW: the walk saw a regular file here; never read through a link swapped in since. */
export function openForRead(entry: WalkEntry): number {
  try {
    return openSync(entry.source, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new OciError('PATH_UNREADABLE', `cannot read '${entry.rel}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      kind: 'usage',
      cause: err,
    });
  }
}
