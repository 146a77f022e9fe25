import { createGzip } from 'node:zlib';
import type { Transform } from 'node:stream';

export interface GzipOptions {
  /** zlib level 0-9; Flux uses 6 (the default). */
  level?: number;
}

/** Placeholder single-threaded compressor; replaced by the parallel, reproducible one. */
export function createGzipStream(options: GzipOptions = {}): Transform {
  return createGzip({ level: options.level ?? 6 });
}
