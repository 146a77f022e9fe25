import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROVENANCE, bounded, type BenchContext } from '../lib/context.js';
import { shell, type RunResult } from '../lib/proc.js';
import { mib, ms, ratio, type SectionResult } from '../lib/report.js';

/**
 * (k) Single-file bundles (oci-layout://….tar, .tar.gz) of the large artifact (256 MiB of YAML by default): wall
 * time and peak RSS of writing one from the registry and carrying it back, beside a layout directory written by
 * the same copy and `tar -cf`/`tar -xf` of that directory, in the same run. Memory must not grow with the bundle:
 * blobs stream into and out of the tar file, and a .tar.gz is inflated to a temporary .tar on disk, not in memory.
 */
const MIB = 1024 * 1024;

export async function bundle(ctx: BenchContext): Promise<SectionResult> {
  const registry = await ctx.registry();
  const reg = registry.host;
  const size = ctx.settings.largeMiB;
  const { tree } = ctx.large();
  await ctx.cliOk(['push', `oci://${reg}/bundle/app:v1`, '--path', tree, ...PROVENANCE], { timeoutMs: 600_000 });
  const dir = join(ctx.work, 'bundle-layout');
  const tarFile = join(ctx.work, 'bundle.tar');
  const gzFile = join(ctx.work, 'bundle.tar.gz');
  const plainTar = join(ctx.work, 'layout-by-tar.tar');
  const env = { ...process.env, D: dir, T: plainTar, X: join(ctx.work, 'layout-untarred') } as Record<string, string>;

  const best: Record<string, RunResult> = {};
  const keep = (name: string, r: RunResult): void => {
    if (best[name] === undefined || r.ms < best[name]!.ms) best[name] = r;
  };
  const copy = (from: string, to: string) => ctx.cliOk(['copy', from, to], { measureRss: true, timeoutMs: 600_000 });
  const runs = await bounded(ctx.settings.largeRuns, 900_000, async (i) => {
    ctx.log(`  run ${i + 1}`);
    for (const path of [dir, tarFile, gzFile, plainTar, env.X!]) rmSync(path, { recursive: true, force: true });
    keep('toDir', await copy(`oci://${reg}/bundle/app:v1`, `oci-layout://${dir}`));
    keep('tarDir', await shell('tar -C "$D" -cf "$T" .', { env, timeoutMs: 600_000 }));
    keep('untar', await shell('mkdir -p "$X" && tar -C "$X" -xf "$T"', { env, timeoutMs: 600_000 }));
    keep('toTar', await copy(`oci://${reg}/bundle/app:v1`, `oci-layout://${tarFile}`));
    keep('fromTar', await copy(`oci-layout://${tarFile}:v1`, `oci://${reg}/bundle/back-tar${i}`));
    keep('toGz', await copy(`oci://${reg}/bundle/app:v1`, `oci-layout://${gzFile}`));
    keep('fromGz', await copy(`oci-layout://${gzFile}:v1`, `oci://${reg}/bundle/back-gz${i}`));
  });
  const bundleMiB = statSync(tarFile).size / MIB;
  const b = best as Record<'toDir' | 'tarDir' | 'untar' | 'toTar' | 'fromTar' | 'toGz' | 'fromGz', RunResult>;
  const row = (name: string, r: RunResult, versus = ''): string[] => [name, ms(r.ms), mib(r.peakRssMiB), versus];
  const twoStep = b.toDir.ms + b.tarDir.ms;
  return {
    title: `(k) Bundles: a ${bundleMiB.toFixed(1)} MiB artifact (${size} MiB of YAML) as one .tar / .tar.gz file`,
    tables: [{
      columns: ['pipeline', 'wall', 'peak RSS', 'ratio'],
      rows: [
        row('copy oci://… oci-layout://DIR (layout directory)', b.toDir),
        row('tar -C DIR -cf FILE .', b.tarDir),
        row('mkdir X && tar -C X -xf FILE', b.untar),
        row('copy oci://… oci-layout://bundle.tar', b.toTar, `${ratio(b.toTar.ms / twoStep)} copy to DIR + tar -cf`),
        row('copy oci-layout://bundle.tar:v1 oci://…', b.fromTar),
        row('copy oci://… oci-layout://bundle.tar.gz', b.toGz, `${ratio(b.toGz.ms / b.toTar.ms)} .tar`),
        row('copy oci-layout://bundle.tar.gz:v1 oci://…', b.fromGz, `${ratio(b.fromGz.ms / b.fromTar.ms)} .tar`),
      ],
    }],
    notes: [
      `Best of ${runs} interleaved run(s); the registry runs on the same machine.`,
      'A .tar is read in place (headers indexed once, blobs read by offset); a .tar.gz is inflated once into a temporary .tar, which costs one gunzip pass and disk for the uncompressed bundle.',
    ],
    targets: [
      { name: `write a ${size} MiB bundle (.tar): peak RSS`, measured: b.toTar.peakRssMiB, limit: 150, unit: ' MiB' },
      { name: `read a ${size} MiB bundle (.tar): peak RSS`, measured: b.fromTar.peakRssMiB, limit: 150, unit: ' MiB' },
      { name: `write a ${size} MiB bundle (.tar.gz): peak RSS`, measured: b.toGz.peakRssMiB, limit: 150, unit: ' MiB' },
      { name: `read a ${size} MiB bundle (.tar.gz): peak RSS`, measured: b.fromGz.peakRssMiB, limit: 150, unit: ' MiB' },
      { name: 'write .tar vs copy to a directory + tar -cf', measured: b.toTar.ms / twoStep, limit: 1.1, unit: 'x' },
    ],
  };
}
