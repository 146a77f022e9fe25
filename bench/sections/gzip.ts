import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { ROOT, bounded, type BenchContext } from '../lib/context.js';
import { shell } from '../lib/proc.js';
import { ms, ratio, type SectionResult } from '../lib/report.js';

/**
 * The compressor alone (from bench/gzip.mjs): createGzipStream on 1 and 2 worker threads against gzip -6 and
 * pigz -6 -p 2 on the same one-file corpus, each into SHA-256 as a push does; and whether both thread counts give
 * identical bytes (they must: the layer digest may not depend on the machine).
 */
type GzipModule = typeof import('../../src/artifact/gzip.js');
const MIB = 1024 * 1024;

interface Measured {
  ms: number;
  digest: string;
  bytes: number;
}

export async function gzip(ctx: BenchContext): Promise<SectionResult> {
  // The built module, as the CLI runs it (its worker file sits next to it in dist/).
  const { createGzipStream } = (await import(pathToFileURL(join(ROOT, 'dist', 'artifact', 'gzip.js')).href)) as GzipModule;
  const { file, bytes } = ctx.large();
  const inProcess = (threads: number) => async (): Promise<Measured> => {
    const hash = createHash('sha256');
    let size = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback();
      },
    });
    const start = performance.now();
    await pipeline(createReadStream(file, { highWaterMark: MIB }), createGzipStream({ level: 6, threads }), sink, {
      signal: AbortSignal.timeout(600_000),
    });
    return { ms: performance.now() - start, digest: hash.digest('hex'), bytes: size };
  };
  const cli = (command: string) => async (): Promise<Measured> => {
    const env = { ...process.env, F: file } as Record<string, string>;
    const r = await shell(`${command} "$F" | sha256sum`, { env, captureStdout: true, timeoutMs: 600_000 });
    const size = await shell(`${command} "$F" | wc -c`, { env, captureStdout: true, timeoutMs: 600_000 });
    return { ms: r.ms, digest: r.stdout.split(' ')[0]!, bytes: Number(size.stdout.trim()) };
  };
  const cases: [string, () => Promise<Measured>][] = [
    ['createGzipStream threads=1 → sha256', inProcess(1)],
    ['createGzipStream threads=2 → sha256', inProcess(2)],
    ['gzip -6 | sha256sum', cli('gzip -6 -c')],
    ['pigz -6 -p 2 | sha256sum', cli('pigz -6 -p 2 -c')],
  ];
  const best = new Map<string, Measured>();
  const runs = await bounded(ctx.settings.largeRuns, 600_000, async () => {
    for (const [name, measure] of cases) {
      const r = await measure();
      const prev = best.get(name);
      if (prev === undefined || r.ms < prev.ms) best.set(name, r);
    }
  });
  const get = (name: string): Measured => best.get(name)!;
  const pigz = get('pigz -6 -p 2 | sha256sum');
  const same = get(cases[0]![0]).digest === get(cases[1]![0]).digest;
  return {
    title: `Compressor alone: ${(bytes / MIB).toFixed(0)} MiB of YAML in one file`,
    tables: [{
      columns: ['pipeline', 'wall', 'MiB/s', 'compressed / original', 'vs pigz -6 -p 2'],
      rows: cases.map(([name]) => {
        const r = get(name);
        return [name, ms(r.ms), (bytes / MIB / (r.ms / 1000)).toFixed(1), (r.bytes / bytes).toFixed(4), ratio(r.ms / pigz.ms)];
      }),
    }],
    notes: [
      `Best of ${runs} run(s). createGzipStream output identical for 1 and 2 threads: ${same ? 'yes' : 'NO'}.`,
    ],
    targets: [],
  };
}
