import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { BenchContext, NODE, ROOT, type Settings } from './lib/context.js';
import { versionOf } from './lib/proc.js';
import { renderSection, renderTargets, targetStatus, type SectionResult, type Target } from './lib/report.js';
import { bundle } from './sections/bundle.js';
import { copy } from './sections/copy.js';
import { gzip } from './sections/gzip.js';
import { kustomize } from './sections/kustomize.js';
import { large } from './sections/large.js';
import { list } from './sections/list.js';
import { memory } from './sections/memory.js';
import { monorepo } from './sections/monorepo.js';
import { packageCost } from './sections/package.js';
import { roundTrips } from './sections/round-trips.js';
import { manyFiles, manyTags } from './sections/scale.js';
import { startup } from './sections/startup.js';

/**
 * `npm run bench [-- SECTION… ] [--large-mib N] [--runs N] [--large-runs N]`
 * Runs the named sections (all by default), prints each table as it completes, then the targets of every section
 * with met/missed, and writes Markdown: a full run to bench/results.md (and the README's performance paragraph,
 * through scripts/bench-figures.mjs), a partial one to .bench-build/results-partial.md (so a quick run never
 * overwrites the published figures).
 */
const SECTIONS: Record<string, (ctx: BenchContext) => Promise<SectionResult>> = {
  startup,
  'round-trips': roundTrips,
  kustomize,
  large,
  list,
  gzip,
  bundle,
  monorepo,
  copy,
  memory,
  package: packageCost,
  'scale-files': manyFiles,
  'scale-tags': manyTags,
};

function parseArgs(argv: string[]): { names: string[]; settings: Settings } {
  const settings: Settings = {
    runs: Number(process.env.BENCH_RUNS ?? 5),
    largeMiB: Number(process.env.BENCH_LARGE_MIB ?? 256),
    largeRuns: Number(process.env.BENCH_LARGE_RUNS ?? 2),
  };
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${arg} needs a positive whole number`);
      return n;
    };
    if (arg === '--large-mib') settings.largeMiB = value();
    else if (arg === '--runs') settings.runs = value();
    else if (arg === '--large-runs') settings.largeRuns = value();
    else if (arg in SECTIONS) names.push(arg);
    else throw new Error(`unknown argument '${arg}'; sections: ${Object.keys(SECTIONS).join(', ')}; flags: --large-mib N, --runs N, --large-runs N`);
  }
  return { names: names.length > 0 ? names : Object.keys(SECTIONS), settings };
}

async function machine(settings: Settings, loadAtStart: number[]): Promise<string[]> {
  const registry = await versionOf('docker-registry');
  const commit = (() => {
    try {
      return execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  return [
    `- date: ${new Date().toISOString()}, commit ${commit}`,
    `- CPU: ${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown'} (nproc ${availableParallelism()}); memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Linux ${release()}`,
    `- node ${process.version}; registry: ${registry}; ${await versionOf('skopeo')}; ${await versionOf('gzip')}; ${await versionOf('pigz')}; ${await versionOf('tar')}`,
    `- settings: runs ${settings.runs}, large tree ${settings.largeMiB} MiB, large runs ${settings.largeRuns}`,
    // Other work on the machine moves wall times (ratios less so): say how busy it was.
    `- load average (1, 5, 15 min) at start: ${loadAtStart.map((l) => l.toFixed(2)).join(', ')}; at end: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`,
  ];
}

async function main(): Promise<void> {
  const { names, settings } = parseArgs(process.argv.slice(2));
  const loadAtStart = loadavg();
  const ctx = new BenchContext(settings, (line) => process.stderr.write(`${line}\n`));
  const results: SectionResult[] = [];
  const onSignal = (): void => {
    void ctx.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    for (const name of names) {
      ctx.log(`[${name}]`);
      const result = await SECTIONS[name]!(ctx);
      results.push(result);
      process.stdout.write(`\n${renderSection(result)}\n`);
    }
  } finally {
    await ctx.close();
  }
  const targets: Target[] = results.flatMap((r) => r.targets);
  const doc = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (see bench/README.md for how to run and read it). Every ratio compares two',
    'figures measured in the same run on the machine below.',
    '',
    ...(await machine(settings, loadAtStart)),
    '',
    renderTargets(results),
    ...results.map(renderSection),
  ].join('\n');
  const full = names.length === Object.keys(SECTIONS).length;
  const out = full ? join(ROOT, 'bench', 'results.md') : join(ROOT, '.bench-build', 'results-partial.md');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, doc);
  process.stdout.write(`\n${renderTargets(results)}\nwritten to ${out}\n`);
  if (targets.some((t) => !['met', 'reported'].includes(targetStatus(t)))) process.stdout.write('(some targets are not met: see the tables)\n');
  // The README's performance paragraph is written from the published figures, never typed.
  if (full) execFileSync(NODE, [join(ROOT, 'scripts', 'bench-figures.mjs')], { stdio: 'inherit' });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
