import { constants, deflateRawSync, type ZlibOptions } from 'node:zlib';
import { Worker } from 'node:worker_threads';

/**
 * Raw-deflate blocks on a small pool of worker threads. The worker is an inline CommonJS source evaluated with
 * `eval: true`: it has no file to resolve, so it behaves the same from dist/ and from TypeScript under vitest.
 * The worker only applies the options it is sent; `blockOptions` builds them in one place for the workers and for
 * the inline path, so both produce the same bytes.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { deflateRawSync } = require('node:zlib');
parentPort.on('message', ({ id, input, options }) => {
  try {
    const out = deflateRawSync(input, options);
    // Only a buffer that owns its whole ArrayBuffer can be transferred; copy the rare pooled/sliced one.
    const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
    parentPort.postMessage({ id, out: own }, [own.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

export interface BlockJob {
  /** The block's bytes; its ArrayBuffer is transferred to the worker, so the caller must own it and not reuse it. */
  input: Uint8Array;
  /** Up to 32 KiB of input preceding the block, or null for the first block. */
  dictionary: Uint8Array | null;
  level: number;
  /** The last block ends the deflate stream (Z_FINISH); others end byte-aligned (Z_SYNC_FLUSH). */
  last: boolean;
}

/**
 * zlib options for one block: defaults for everything else, chunkSize included, since level 0 sizes its stored
 * blocks by the output buffer and would otherwise change bytes.
 */
function blockOptions(job: BlockJob): ZlibOptions {
  const options: ZlibOptions = {
    level: job.level,
    finishFlush: job.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
  };
  if (job.dictionary !== null && job.dictionary.byteLength > 0) options.dictionary = job.dictionary;
  return options;
}

/** The same compression on the calling thread, for inputs too small to be worth a worker. */
export function deflateBlockSync(job: BlockJob): Uint8Array {
  return deflateRawSync(job.input, blockOptions(job));
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
  private nextId = 0;
  private closed = false;

  constructor(private readonly size: number) {}

  deflate(job: BlockJob): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('gzip: the compression pool is closed'));
    const slot = this.pickSlot();
    const id = this.nextId++;
    const transfer = job.input.buffer instanceof ArrayBuffer ? [job.input.buffer] : [];
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage({ id, input: job.input, options: blockOptions(job) }, transfer);
    });
  }

  /** Terminates the workers; outstanding jobs reject with `reason`. Safe to call more than once. */
  close(reason: Error = new Error('gzip: the compression pool was closed')): void {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots) void slot.worker.terminate();
    this.slots.length = 0;
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
    slot.worker.on('message', (msg: { id: number; out?: Uint8Array; error?: string }) => {
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
