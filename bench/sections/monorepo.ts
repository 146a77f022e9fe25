import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startProxy, type LoopbackProxy } from '../../test/helpers/proxy.js';
import { bounded, cliEnv, PROVENANCE, ROOT, type BenchContext } from '../lib/context.js';
import type { RunResult } from '../lib/proc.js';
import { ms, ratio, type SectionResult, type Target } from '../lib/report.js';

/**
 * (f) The monorepo pipeline: fixtures/monorepo (five apps, staging and production) grown to twenty artifacts of
 * three sources each by two more environments generated in the work copy (`dev`, `qa`: a Kustomize overlay each)
 * with its oci-artifact.yaml written for all four, pushed by one `push --all`, cold and again with nothing
 * changed, against the same twenty artifacts pushed one `push` command at a time (what a pipeline loops over
 * today), through a proxy adding 50 ms per request.
 */
const LATENCY_MS = 50;
const APPS = ['web', 'api', 'worker', 'db', 'cache'];
const ENVIRONMENTS = ['staging', 'production', 'dev', 'qa'];
const ARTIFACTS = APPS.length * ENVIRONMENTS.length;
/** Wall-time bound of the repeated runs (each run is one cold and one unchanged push --all, three loops of twenty). */
const RUNS_BUDGET_MS = 120_000;

interface Measured {
  requests: number;
  roundTrips: number;
  uploads: number;
  manifestWrites: number;
  ms: number;
}

export async function monorepo(ctx: BenchContext): Promise<SectionResult> {
  const registry = await ctx.registry();
  const proxy = await startProxy({ target: registry.host, latencyMs: LATENCY_MS });
  try {
    return await measureAll(ctx, proxy);
  } finally {
    await proxy.stop();
  }
}

async function measureAll(ctx: BenchContext, proxy: LoopbackProxy): Promise<SectionResult> {
  const repo = join(ctx.work, 'monorepo');
  await cp(join(ROOT, 'fixtures', 'monorepo'), repo, { recursive: true });
  await growToAllEnvironments(repo);
  const measure = async (commands: () => Promise<RunResult[]>): Promise<Measured> => {
    proxy.reset();
    const started = performance.now();
    await commands();
    const wall = performance.now() - started;
    await proxy.idle();
    const stats = proxy.stats();
    return {
      requests: stats.requests,
      roundTrips: stats.roundTrips,
      uploads: proxy.log.filter((r) => r.method === 'POST' && r.path.includes('/blobs/uploads')).length,
      manifestWrites: proxy.log.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/')).length,
      ms: wall,
    };
  };
  const env = (sha: string): Record<string, string> => ({ ...cliEnv(), REGISTRY: proxy.host, GIT_SHA: sha });
  const all = (prefix: string, sha: string) => measure(async () => [await ctx.cliOk(['push', '--all', ...PROVENANCE], { cwd: join(repo), env: { ...env(sha), REGISTRY: `${proxy.host}/${prefix}` } })]);
  /** The same artifacts, one command each, in sequence (as a shell loop in a pipeline). */
  const oneByOne = (prefix: string, sha: string, extra: string[] = []) => measure(async () => {
    const results: RunResult[] = [];
    for (const app of APPS) {
      for (const environment of ENVIRONMENTS) {
        const ref = `oci://${proxy.host}/${prefix}/monorepo/${app}:${environment}`;
        results.push(await ctx.cliOk([
          'push', ref, '-f', `apps/${app}/base:base`, '-f', `apps/${app}/${environment}:${environment}`, '-f', 'shared:shared',
          '-a', `org.example/app=${app}`, '-a', `org.example/environment=${environment}`, ...extra, ...PROVENANCE,
        ], { cwd: repo, env: env(sha) }));
      }
    }
    return results;
  });

  const samples = { allCold: [] as Measured[], allUnchanged: [] as Measured[], loopCold: [] as Measured[], loopRepush: [] as Measured[], loopIfChanged: [] as Measured[] };
  const planned = Math.max(1, Math.min(ctx.settings.runs, 3));
  const runs = await bounded(planned, RUNS_BUDGET_MS, async (run) => {
    ctx.log(`  run ${run + 1}/${planned}: push --all, cold and unchanged`);
    samples.allCold.push(await all(`all${run}`, 'a'.repeat(40)));
    samples.allUnchanged.push(await all(`all${run}`, 'b'.repeat(40)));
    ctx.log(`  run ${run + 1}/${planned}: one push per artifact, cold, again, again with --if-changed`);
    samples.loopCold.push(await oneByOne(`loop${run}`, 'a'.repeat(40)));
    samples.loopRepush.push(await oneByOne(`loop${run}`, 'b'.repeat(40)));
    samples.loopIfChanged.push(await oneByOne(`loop${run}`, 'c'.repeat(40), ['--if-changed']));
  });
  const med = (list: Measured[]): Measured => {
    const sorted = [...list].sort((a, b) => a.ms - b.ms);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  const allCold = med(samples.allCold);
  const allUnchanged = med(samples.allUnchanged);
  const loopCold = med(samples.loopCold);
  const loopRepush = med(samples.loopRepush);
  const loopIfChanged = med(samples.loopIfChanged);
  const row = (name: string, m: Measured, baseline?: Measured): string[] => [
    name, String(m.requests), String(m.roundTrips), String(m.uploads), String(m.manifestWrites), ms(m.ms), baseline ? ratio(m.ms / baseline.ms) : '—',
  ];
  const targets: Target[] = [
    { name: `monorepo of ${ARTIFACTS}: push --all cold, wall against one push per artifact`, measured: allCold.ms / loopCold.ms, limit: 0.5, unit: 'x' },
    { name: `monorepo of ${ARTIFACTS}: push --all unchanged, wall against one push per artifact`, measured: allUnchanged.ms / loopRepush.ms, limit: 0.25, unit: 'x' },
    { name: `monorepo of ${ARTIFACTS}: push --all unchanged, uploads`, measured: allUnchanged.uploads, limit: 0, unit: '' },
    { name: `monorepo of ${ARTIFACTS}: push --all unchanged, manifest writes`, measured: allUnchanged.manifestWrites, limit: 0, unit: '' },
    { name: `monorepo of ${ARTIFACTS}: push --all unchanged, requests (one per artifact)`, measured: allUnchanged.requests, limit: ARTIFACTS, unit: '' },
  ];
  return {
    title: `(f) Monorepo pipeline: ${ARTIFACTS} artifacts, ${APPS.length} apps × ${ENVIRONMENTS.length} environments (${LATENCY_MS} ms added per request)`,
    tables: [{
      columns: ['run', 'requests', 'round trips', 'uploads', 'manifest PUTs', 'wall', 'wall against one push per artifact'],
      rows: [
        row('push --all, cold', allCold, loopCold),
        row('push --all, unchanged', allUnchanged, loopRepush),
        row('one push per artifact, cold', loopCold),
        row('one push per artifact, again (new revision)', loopRepush),
        row('one push per artifact --if-changed, again', loopIfChanged, loopRepush),
      ],
    }],
    notes: [
      `Median of ${runs} run(s) by wall time; each run pushes to fresh repositories. Every command is the built CLI (node bin/oci-artifact.js), ${ARTIFACTS} artifacts of three sources each (fixtures/monorepo with dev and qa overlays and the oci-artifact.yaml for all four environments generated in the work copy).`,
      `"push --all" pushes at most 4 artifacts at once in one process (one connection pool, one token cache) and skips unchanged content by default; "one push per artifact" is ${ARTIFACTS} processes in sequence, and without --if-changed each re-push writes a new manifest (new revision, new digest: Flux reconciles every app).`,
      'Ratios compare wall times measured in the same run; the "again" rows compare with "one push per artifact, again".',
      'push --all also writes each artifact\'s second tag from oci-artifact.yaml (`ENV-${GIT_SHA}`: twice the manifest PUTs, and one tag read per artifact to skip unchanged content), which the one-by-one loop does not: its cold requests are not the same job.',
    ],
    targets,
  };
}

/**
 * Add the environments the fixture lacks (an overlay of each app's base with its own replica count) and write
 * oci-artifact.yaml for every app and environment, in the fixture's shape.
 */
async function growToAllEnvironments(repo: string): Promise<void> {
  const entries: string[] = [];
  for (const app of APPS) {
    for (const [index, environment] of ENVIRONMENTS.entries()) {
      const overlay = join(repo, 'apps', app, environment);
      if (!FIXTURE_ENVIRONMENTS.includes(environment)) {
        await mkdir(overlay, { recursive: true });
        await writeFile(join(overlay, 'kustomization.yaml'),
          `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${environment}\nresources:\n  - ../base\npatches:\n  - path: replicas.yaml\n`);
        await writeFile(join(overlay, 'replicas.yaml'), `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${app}\nspec:\n  replicas: ${index + 1}\n`);
      }
      entries.push([
        `  - name: ${app}-${environment}`,
        `    reference: oci://\${REGISTRY}/monorepo/${app}:${environment}`,
        `    tags: ["${environment}-\${GIT_SHA}"]`,
        `    sources: [apps/${app}/base:base, apps/${app}/${environment}:${environment}, shared:shared]`,
        '    annotations:',
        `      org.example/app: ${app}`,
        `      org.example/environment: ${environment}`,
      ].join('\n'));
    }
  }
  await writeFile(join(repo, 'oci-artifact.yaml'), `version: 1\nartifacts:\n${entries.join('\n')}\n`);
}

/** The environments fixtures/monorepo has overlays for. */
const FIXTURE_ENVIRONMENTS = ['staging', 'production'];
