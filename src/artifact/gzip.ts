import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeflatePool, deflateBlockSync, type BlockJob } from './deflate-pool.js';

export interface GzipOptions {
  /** zlib level 0-9; Flux uses 6 (the default). */
  level?: number;
  /**
   * Sets how many blocks are in flight (BLOCKS_PER_THREAD each); default: available parallelism, at most
   * MAX_THREADS. The blocks compress on libuv's thread pool (deflate-pool.ts), whose size bounds the parallelism.
   */
  threads?: number;
  /** Bytes of input per independently compressed block, at least 32 KiB; default 128 KiB like pigz. */
  blockSize?: number;
}

/**
 * Garbage collection on the main thread every few MiB of input. Compressing a large tree sends ~1 GiB of
 * short-lived buffers through the process (tar records, compressed pieces, upload chunks; blocks are reused), and
 * V8 collects dead ArrayBuffers lazily: without it a 1 GiB push peaked ~10 MiB higher. A full collection of this
 * small heap takes a few ms; every 32 MiB of input that is about 1 % of the CPU time.
 *
 * `gc` is only reachable through --expose-gc; setting it at run time is the known way for code that cannot choose
 * node's flags (a CLI started as `npx …`). Where that fails, collection stays V8's business.
 */
const COLLECT_EVERY = 32 * 1024 * 1024;

let collect: (() => void) | undefined;

/** A full garbage collection, when node lets us expose `gc`. */
function collectGarbage(): void {
  collect ??= exposeGc();
  collect();
}

function exposeGc(): () => void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // no exposed gc: leave collection to V8
  }
  return () => undefined;
}

const DICTIONARY_SIZE = 32 * 1024;
const DEFAULT_BLOCK_SIZE = 128 * 1024;
const MAX_THREADS = 8;
/**
 * Blocks in flight per thread (1 MiB of input at the default block size). The thread pool needs a few queued
 * blocks so it keeps compressing while the main thread is descheduled: with only one block per thread, the 256 MiB
 * push took 10-20 % longer on a busy 2-core machine.
 */
const BLOCKS_PER_THREAD = 8;

/**
 * A gzip compressor that works like pigz: the input is cut into blocks at fixed offsets, each block is raw-deflated
 * on the thread pool with the 32 KiB of input before it as preset dictionary and ends byte-aligned (Z_SYNC_FLUSH), the
 * last one with Z_FINISH; the pieces are concatenated in order into one gzip member. Every block's bytes depend
 * only on the input and the level, so the output is the same for any thread count and any input chunking, and
 * the fixed header (mtime 0, no name, OS 3) makes it the same on every platform.
 */
export function createGzipStream(options: GzipOptions = {}): Transform {
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new RangeError(`gzip level must be 0-9, got ${level}`);
  const threads = options.threads ?? Math.min(availableParallelism(), MAX_THREADS);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`gzip threads must be >= 1, got ${threads}`);
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isInteger(blockSize) || blockSize < DICTIONARY_SIZE) {
    throw new RangeError(`gzip blockSize must be an integer >= ${DICTIONARY_SIZE}, got ${blockSize}`);
  }
  return new ParallelGzip(level, threads, blockSize);
}

/** 10-byte gzip header: deflate, no flags, mtime 0, XFL as gzip sets it for the level, OS 3 (Unix). */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

interface QueuedBlock {
  out: Uint8Array | null;
}

class ParallelGzip extends Transform {
  private readonly pool: DeflatePool;
  /** Blocks dispatched and not yet pushed, in input order. */
  private readonly queue: QueuedBlock[] = [];
  private readonly maxInFlight: number;
  /**
   * The block being filled: DICTIONARY_SIZE bytes for the input before it (the previous block's tail, unused for
   * the first block), then up to blockSize bytes of input from offset DICTIONARY_SIZE.
   */
  private block: Buffer;
  private fill = 0;
  private dispatched = 0;
  private crc = 0;
  private size = 0;
  private sinceCollect = 0;
  /** A transform or flush step waiting for room in the queue (or for it to empty). */
  private waiter: (() => void) | null = null;

  constructor(
    private readonly level: number,
    threads: number,
    private readonly blockSize: number,
  ) {
    super({ readableHighWaterMark: blockSize, writableHighWaterMark: blockSize });
    this.pool = new DeflatePool();
    this.maxInFlight = BLOCKS_PER_THREAD * threads;
    this.block = this.pool.blockBuffer(DICTIONARY_SIZE + blockSize);
  }

  /** Chunks are always Buffers: the writable side (not object mode) converts strings and Uint8Arrays. */
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
    this.sinceCollect += chunk.length;
    if (this.sinceCollect >= COLLECT_EVERY) {
      this.sinceCollect = 0;
      collectGarbage(); // see COLLECT_EVERY: bounds a large push's peak RSS
    }
    this.consume(chunk, 0, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.dispatched === 0) {
      // The whole input fits in one block: compressed here, same bytes.
      this.push(gzipHeader(this.level));
      this.push(deflateBlockSync(this.job(true)));
      callback(null, this.trailer());
      return;
    }
    this.dispatch(true);
    this.waitFor(
      () => this.queue.length === 0,
      () => {
        this.pool.close();
        callback(null, this.trailer());
      },
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.waiter = null;
    this.queue.length = 0;
    this.pool.close();
    callback(err);
  }

  /** Copies `chunk` from `offset` into blocks; a full block is dispatched only once more input arrives. */
  private consume(chunk: Buffer, offset: number, callback: TransformCallback): void {
    while (offset < chunk.length) {
      if (this.fill === this.blockSize) {
        if (!this.hasRoom()) {
          this.waitFor(
            () => this.hasRoom(),
            () => this.consume(chunk, offset, callback),
          );
          return;
        }
        this.dispatch(false);
      }
      const n = Math.min(this.blockSize - this.fill, chunk.length - offset);
      chunk.copy(this.block, DICTIONARY_SIZE + this.fill, offset, offset + n);
      this.fill += n;
      offset += n;
    }
    callback();
  }

  /**
   * Room for one more block in flight. Pushed output is bounded by Transform itself: once the readable buffer
   * is over its mark, a delayed transform callback is held until the consumer reads.
   */
  private hasRoom(): boolean {
    return this.queue.length < this.maxInFlight;
  }

  private job(last: boolean): BlockJob {
    const dictionary = this.dispatched === 0 ? 0 : DICTIONARY_SIZE;
    return { block: this.block, start: DICTIONARY_SIZE, end: DICTIONARY_SIZE + this.fill, dictionary, level: this.level, last };
  }

  private dispatch(last: boolean): void {
    const job = this.job(last);
    if (this.dispatched++ === 0) this.push(gzipHeader(this.level));
    if (!last) {
      // The next block starts with this one's tail as its dictionary; copy it before the block is compressed.
      const next = this.pool.blockBuffer(DICTIONARY_SIZE + this.blockSize);
      this.block.copy(next, 0, this.blockSize, DICTIONARY_SIZE + this.blockSize);
      this.block = next;
      this.fill = 0;
    }
    const slot: QueuedBlock = { out: null };
    this.queue.push(slot);
    this.pool.deflate(job).then(
      (out) => {
        slot.out = out;
        this.drain();
      },
      (err: Error) => {
        if (!this.destroyed) this.destroy(err);
      },
    );
  }

  /** Pushes finished blocks in input order. */
  private drain(): void {
    if (this.destroyed) return;
    while (this.queue.length > 0 && this.queue[0]!.out !== null) {
      this.push(this.queue.shift()!.out);
    }
    this.waiter?.();
  }

  private waitFor(ready: () => boolean, then: () => void): void {
    if (ready()) {
      then();
      return;
    }
    this.waiter = () => {
      if (!ready()) return;
      this.waiter = null;
      then();
    };
  }

  /** CRC32 and length (mod 2^32) of all input, little-endian. */
  private trailer(): Buffer {
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size % 2 ** 32, 4);
    return trailer;
  }
}
