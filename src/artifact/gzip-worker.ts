import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { constants, deflateRawSync, type ZlibOptions } from 'node:zlib';
import { Worker } from 'node:worker_threads';

/**
 * Garbage collection, on the main thread and in each worker, every few MiB of input.
 *
 * Compressing a large tree sends ~1 GiB of short-lived buffers through three isolates (tar records, compressed
 * pieces, upload chunks; blocks are reused). V8 collects dead ArrayBuffers lazily, and one allocated in another
 * thread creates no allocation pressure in the isolate it dies in: a 256 MiB push peaked near 300 MiB RSS, most
 * of it dead buffers. A full collection of these small heaps takes a few ms; every 16 MiB (worker) and 32 MiB
 * (main thread) of input it costs about 1 % of the CPU time and bounds the garbage to a few MiB per isolate.
 * (A minor collection, `gc({ type: 'minor' })`, did not free these buffers on node 20.)
 *
 * `gc` is only reachable through --expose-gc; setting it at run time is the known way for code that cannot choose
 * node's flags (a CLI started as `npx …`). Where that fails, collection stays V8's business.
 */
const COLLECT_EVERY = 16 * 1024 * 1024;
export const MAIN_COLLECT_EVERY = 32 * 1024 * 1024;

let mainCollect: (() => void) | undefined;

/** A full garbage collection of the calling isolate, when node lets us expose `gc`. */
export function collectGarbage(): void {
  mainCollect ??= exposeGc();
  mainCollect();
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

/**
 * Raw-deflate blocks on a small pool of worker threads. The worker is an inline CommonJS source evaluated with
 * `eval: true`: it has no file to resolve, so it behaves the same from dist/ and from TypeScript under vitest.
 * The worker only applies the options it is sent; `blockOptions` builds them in one place for the workers and for
 * the inline path, so both produce the same bytes.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { deflateRawSync } = require('node:zlib');
// Collect every few MiB, as collectGarbage() does on the main thread (see COLLECT_EVERY for why).
let collect;
try {
  require('node:v8').setFlagsFromString('--expose-gc');
  collect = globalThis.gc ?? require('node:vm').runInNewContext('gc');
} catch {}
let sinceCollect = 0;
parentPort.on('message', ({ id, buffer, start, end, dictionary, options }) => {
  try {
    const bytes = new Uint8Array(buffer);
    if (dictionary > 0) options.dictionary = bytes.subarray(start - dictionary, start);
    const out = deflateRawSync(bytes.subarray(start, end), options);
    // Only a buffer that owns its whole ArrayBuffer can be transferred; copy the rare pooled/sliced one.
    const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
    // The block goes back with the result, to be filled again: blocks are allocated once, not once per block.
    parentPort.postMessage({ id, out: own, buffer }, [own.buffer, buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
  sinceCollect += end - start;
  if (sinceCollect >= ${COLLECT_EVERY} && typeof collect === 'function') {
    sinceCollect = 0;
    collect();
  }
});
`;

/**
 * One block to compress. `block` holds the block's input at [start, end) and, right before it, the `dictionary`
 * bytes of input that precede the block (up to 32 KiB; 0 for the first block), so one buffer carries both. For the
 * pool `block` must own its ArrayBuffer: it is transferred to the worker, and the caller must not touch it until
 * `DeflatePool.blockBuffer()` hands it out again.
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
 * zlib options for one block (the dictionary is added where the bytes are): defaults for everything else,
 * chunkSize included, since level 0 sizes its stored blocks by the output buffer and would otherwise change bytes.
 */
function blockOptions(job: BlockJob): ZlibOptions {
  return { level: job.level, finishFlush: job.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH };
}

/** The same compression on the calling thread, for inputs too small to be worth a worker. */
export function deflateBlockSync(job: BlockJob): Uint8Array {
  const options = blockOptions(job);
  if (job.dictionary > 0) options.dictionary = job.block.subarray(job.start - job.dictionary, job.start);
  return deflateRawSync(job.block.subarray(job.start, job.end), options);
}

interface Pending {
  resolve: (out: Uint8Array) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Jobs sent to this worker and not answered yet; the worker is ref'd only while this is > 0. */
  busy: number;
}

/**
 * Workers are started on the first job and ref'd only while they have work, so an abandoned pool never keeps the
 * process alive while a pool with work in flight does. `close()` terminates them and fails outstanding jobs.
 */
export class DeflatePool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  /** Block buffers the workers sent back, to be filled again. */
  private readonly spare: ArrayBuffer[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly size: number) {}

  /** A buffer of `size` bytes for a block: one a worker sent back when there is one, else a new one. */
  blockBuffer(size: number): Buffer {
    for (let spare = this.spare.pop(); spare !== undefined; spare = this.spare.pop()) {
      if (spare.byteLength === size) return Buffer.from(spare);
    }
    return Buffer.allocUnsafeSlow(size);
  }

  deflate(job: BlockJob): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('gzip: the compression pool is closed'));
    const buffer = job.block.buffer;
    if (!(buffer instanceof ArrayBuffer) || job.block.byteOffset !== 0 || job.block.byteLength !== buffer.byteLength) {
      return Promise.reject(new Error('gzip: a block buffer must own its whole ArrayBuffer'));
    }
    const slot = this.pickSlot();
    const id = this.nextId++;
    const { start, end, dictionary } = job;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage({ id, buffer, start, end, dictionary, options: blockOptions(job) }, [buffer]);
    });
  }

  /** Terminates the workers; outstanding jobs reject with `reason`. Safe to call more than once. */
  close(reason: Error = new Error('gzip: the compression pool was closed')): void {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots) void slot.worker.terminate();
    this.slots.length = 0;
    this.spare.length = 0;
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) entry.reject(reason);
  }

  /** The least busy worker, starting a new one while the pool is below its size. */
  private pickSlot(): Slot {
    let best: Slot | undefined;
    for (const slot of this.slots) if (best === undefined || slot.busy < best.busy) best = slot;
    if (best !== undefined && (best.busy === 0 || this.slots.length >= this.size)) return best;
    const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true }), busy: 0 };
    slot.worker.unref();
    slot.worker.on('message', (msg: { id: number; out?: Uint8Array; buffer?: ArrayBuffer; error?: string }) => {
      if (msg.buffer !== undefined && !this.closed) this.spare.push(msg.buffer);
      const entry = this.pending.get(msg.id);
      if (entry === undefined) return;
      this.pending.delete(msg.id);
      if (--slot.busy === 0) slot.worker.unref();
      if (msg.out !== undefined) entry.resolve(msg.out);
      else entry.reject(new Error(`gzip: deflate failed: ${msg.error ?? 'unknown error'}`));
    });
    slot.worker.on('error', (err) => this.close(err));
    slot.worker.on('exit', (code) => {
      if (!this.closed) this.close(new Error(`gzip: a compression worker exited unexpectedly (code ${code})`));
    });
    this.slots.push(slot);
    return slot;
  }
}
