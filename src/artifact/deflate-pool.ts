import { constants, deflateRaw, deflateRawSync, type ZlibOptions } from 'node:zlib';

/**
 * Raw-deflate blocks in parallel on libuv's thread pool (zlib's asynchronous API: UV_THREADPOOL_SIZE threads, 4 by
 * default). Worker threads did the same with a V8 isolate each; for the same bytes, the pool has no isolates to
 * start, no messages to serialize and no garbage in other heaps: peak RSS of a 256 MiB push went from ~146 to
 * ~130 MiB, of a 1 GiB push from ~148 to ~137 MiB.
 */

/**
 * One block to compress. `block` holds the block's input at [start, end) and, right before it, the `dictionary`
 * bytes of input that precede the block (up to 32 KiB; 0 for the first block), so one buffer carries both. The
 * caller must not touch `block` until `DeflatePool.blockBuffer()` hands it out again.
 */
export interface BlockJob {
  block: Buffer;
  start: number;
  end: number;
  dictionary: number;
  level: number;
  /** The last block ends the deflate stream (Z_FINISH); others end byte-aligned (Z_SYNC_FLUSH). */
  last: boolean;
}

/**
 * zlib options for one block: defaults for everything else, chunkSize included, since level 0 sizes its stored
 * blocks by the output buffer and would otherwise change bytes.
 */
function blockOptions(job: BlockJob): ZlibOptions {
  const options: ZlibOptions = { level: job.level, finishFlush: job.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH };
  if (job.dictionary > 0) options.dictionary = job.block.subarray(job.start - job.dictionary, job.start);
  return options;
}

/** The same compression on the calling thread, for inputs too small to be worth the pool. */
export function deflateBlockSync(job: BlockJob): Uint8Array {
  return deflateRawSync(job.block.subarray(job.start, job.end), blockOptions(job));
}

/**
 * Blocks compress on the thread pool and come back through the event loop, so work in flight keeps the process
 * alive until it ends and an abandoned stream never does. Block buffers are reused once their block is done.
 */
export class DeflatePool {
  /** Block buffers whose compression ended, to be filled again. */
  private readonly spare: Buffer[] = [];
  private closed = false;

  /** A buffer of `size` bytes for a block: a finished block's when there is one, else a new one. */
  blockBuffer(size: number): Buffer {
    for (let spare = this.spare.pop(); spare !== undefined; spare = this.spare.pop()) {
      if (spare.length === size) return spare;
    }
    return Buffer.allocUnsafeSlow(size);
  }

  deflate(job: BlockJob): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('gzip: the compression pool is closed'));
    // Level 0 only copies (no thread is worth it), and zlib's asynchronous path cuts its stored blocks elsewhere.
    if (job.level === 0) return Promise.resolve(this.recycle(job, deflateBlockSync(job)));
    return new Promise<Uint8Array>((resolve, reject) => {
      deflateRaw(job.block.subarray(job.start, job.end), blockOptions(job), (err, out) => {
        if (err === null) resolve(this.recycle(job, out));
        else reject(new Error(`gzip: deflate failed: ${err.message}`));
      });
    });
  }

  /** The block is done: its buffer may be filled again. Returns the block's output. */
  private recycle(job: BlockJob, out: Uint8Array): Uint8Array {
    if (!this.closed) this.spare.push(job.block);
    return out;
  }

  /** No more jobs: blocks already on the thread pool finish and are dropped. Safe to call more than once. */
  close(): void {
    this.closed = true;
    this.spare.length = 0;
  }
}
