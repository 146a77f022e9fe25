import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startProxy, type LoopbackProxy, type RequestRecord } from '../../test/helpers/proxy.js';
import { PROVENANCE, ROOT, bounded, tagManifest, type BenchContext } from '../lib/context.js';
import { writeYamlTree } from '../lib/corpus.js';
import { shell, type RunResult } from '../lib/proc.js';
import { median, ms, ratio, type SectionResult, type Target } from '../lib/report.js';

/**
 * Work that grows: (i) a tree of many small files, (j) a repository of many tags. Each figure is a ratio against a
 * baseline measured in the same run, and the growth is a ratio of per-item costs at two sizes.
 */

/** (i) Sizes of the small-file trees; the growth compares the cost per file of the last with the first. */
const TREE_SIZES = [5_000, 50_000];
/** Bytes per file: Kustomize-sized resources, so the per-file work (walk, headers, open/write/close) dominates. */
const FILE_BYTES = 512;
const FILES_PER_DIR = 100;
/** Wall-time bound of the repeated rounds (one round pushes and pulls every tree once, with both baselines). */
const TREE_BUDGET_MS = 100_000;

interface TreeRound {
  push: number;
  tarPigz: number;
  pull: number;
  untar: number;
}

export async function manyFiles(ctx: BenchContext): Promise<SectionResult> {
  const work = join(ctx.work, 'scale-files');
  try {
    return await measureTrees(ctx, work);
  } finally {
    // Here rather than with the whole work directory, so the section's wall time includes its own clean-up.
    ctx.log('  removing the trees');
    rmSync(work, { recursive: true, force: true });
  }
}

async function measureTrees(ctx: BenchContext, work: string): Promise<SectionResult> {
  const registry = await ctx.registry();
  // A one-file tree measures what every run pays whatever the size (start-up, requests, the workers).
  const sizes = [1, ...TREE_SIZES];
  const trees = new Map<number, { dir: string; layer: string }>();
  for (const files of sizes) {
    ctx.log(`  generating ${files} files of ${FILE_BYTES} bytes`);
    const dir = join(work, `files-${files}`);
    writeYamlTree(dir, { totalBytes: files * FILE_BYTES, files, perDir: FILES_PER_DIR });
    // The baseline extracts the same gzip'd tar the registry holds: `build` writes the layer's bytes.
    const layer = join(work, `files-${files}.tgz`);
    await ctx.cliOk(['build', '--path', dir, '--output', layer]);
    trees.set(files, { dir, layer });
  }
  const out = join(work, 'out');
  mkdirSync(out);
  const samples = new Map<number, TreeRound[]>(sizes.map((n) => [n, []]));
  const planned = Math.max(1, Math.min(ctx.settings.runs, 3));
  const rounds = await bounded(planned, TREE_BUDGET_MS, async (round) => {
    for (const files of sizes) {
      ctx.log(`  round ${round + 1}/${planned}: ${files} files`);
      const { dir, layer } = trees.get(files)!;
      // A fresh repository each round, so every push uploads its layer.
      const ref = `oci://${registry.host}/scale/files-${files}-r${round}:v1`;
      const push = await ctx.cliOk(['push', ref, '--path', dir, ...PROVENANCE]);
      const tarPigz = await shell(`tar -cf - -C '${dir}' . | pigz -6 -p 2 | sha256sum >/dev/null`);
      // Fresh directories, all removed when the section ends: deleting 50,000 files between runs took
      // longer than the runs on a busy disk.
      const pull = await ctx.cliOk(['pull', ref, '--output', join(out, `pull-${files}-r${round}`)]);
      const untarDir = join(out, `untar-${files}-r${round}`);
      mkdirSync(untarDir);
      const untar = await shell(`gzip -dc '${layer}' | tar -x -C '${untarDir}'`);
      samples.get(files)!.push({ push: push.ms, tarPigz: tarPigz.ms, pull: pull.ms, untar: untar.ms });
    }
  });
  const med = (files: number, key: keyof TreeRound): number => median(samples.get(files)!.map((s) => s[key]));
  /** Wall time per file beyond the one-file tree's: the cost that grows with the tree. */
  const perFile = (files: number, key: keyof TreeRound): number => Math.max(0, med(files, key) - med(1, key)) / files;
  const [small, big] = [TREE_SIZES[0]!, TREE_SIZES[TREE_SIZES.length - 1]!];
  const growth = (key: keyof TreeRound): number => perFile(big, key) / perFile(small, key);
  const us = (value: number): string => `${(value * 1000).toFixed(0)} µs`;
  const rows: string[][] = [];
  for (const [name, ours, baseline, baselineName] of [
    ['push', 'push', 'tarPigz', '`tar -cf - | pigz -6 -p 2 | sha256sum`'],
    ['pull', 'pull', 'untar', '`gzip -dc LAYER | tar -x`'],
  ] as const) {
    for (const files of sizes) {
      rows.push([
        `${name}, ${files} file${files === 1 ? '' : 's'}`,
        ms(med(files, ours)),
        files === 1 ? '—' : us(perFile(files, ours)),
        `${ms(med(files, baseline))} (${baselineName})`,
        files === 1 ? '—' : us(perFile(files, baseline)),
        ratio(med(files, ours) / med(files, baseline)),
      ]);
    }
    rows.push([`${name}: per-file growth, ${big} against ${small}`, '', ratio(growth(ours)), '', ratio(growth(baseline)), '']);
  }
  const targets: Target[] = [
    { name: `${big} small files: push per-file time against ${small} files`, measured: growth('push'), limit: 1.2, unit: 'x' },
    { name: `${big} small files: pull per-file time against ${small} files`, measured: growth('pull'), limit: 1.2, unit: 'x' },
  ];
  return {
    title: `(i) A tree of ${big} small files (${FILE_BYTES} bytes each, ${FILES_PER_DIR} per directory), local registry`,
    tables: [{
      columns: ['run', 'wall (median)', 'per file', 'baseline wall (median)', 'baseline per file', 'against baseline'],
      rows,
    }],
    notes: [
      `Median of ${rounds} round(s); every push goes to a fresh repository (the layer is uploaded each time), every pull and extraction into an empty directory.`,
      `"per file" is the wall time beyond the one-file tree's (start-up, requests, workers: what every run pays), divided by the files; the growth is that per-file time at ${big} files against ${small}, for ours and for the baseline (the filesystem's own growth shows in the baseline's).`,
      'The baselines do less than the CLI: no registry (the push baseline only compresses and hashes, the registry also stores the layer on the same cores), no digest check, no staging directory (pull extracts beside the output and renames it into place).',
    ],
    targets,
  };
}

/** (j) Tags in the repository, the latency the proxy adds per request, and list's default manifests in flight. */
const TAGS = 2_000;
const TAG_LATENCY_MS = 20;
const IN_FLIGHT = 8;
const LIMIT = 10;
const TAGS_BUDGET_MS = 60_000;

interface ListRun {
  ms: number;
  requests: number;
  roundTrips: number;
  tagPages: number;
  manifestGets: number;
  /** Mean time of one manifest GET at the proxy (the added latency plus the registry's answer). */
  manifestMs: number;
}

export async function manyTags(ctx: BenchContext): Promise<SectionResult> {
  const registry = await ctx.registry();
  const repository = 'scale/tags';
  // Versions 1.0.0 … 1.19.99, so --latest (semver) has a newest to find.
  const tags = Array.from({ length: TAGS }, (_, i) => `1.${Math.floor(i / 100)}.${i % 100}`);
  ctx.log(`  seeding ${TAGS} tags on one manifest`);
  await ctx.cliOk(['push', `oci://${registry.host}/${repository}:${tags[0]}`, '--path', join(ROOT, 'fixtures', 'kustomize'), ...PROVENANCE]);
  await tagManifest(registry.host, repository, tags[0]!, tags.slice(1));
  const proxy = await startProxy({ target: registry.host, latencyMs: TAG_LATENCY_MS });
  try {
    return await measureTags(ctx, proxy, repository);
  } finally {
    await proxy.stop();
  }
}

async function measureTags(ctx: BenchContext, proxy: LoopbackProxy, repository: string): Promise<SectionResult> {
  const repo = `oci://${proxy.host}/${repository}`;
  const measure = async (args: string[]): Promise<ListRun & { stdout: string }> => {
    proxy.reset();
    const r: RunResult = await ctx.cliOk(['list', repo, ...args], { captureStdout: true });
    await proxy.idle();
    const stats = proxy.stats();
    const manifests = proxy.log.filter((q) => q.method === 'GET' && q.path.includes('/manifests/'));
    return {
      ms: r.ms,
      requests: stats.requests,
      roundTrips: stats.roundTrips,
      tagPages: proxy.log.filter((q) => q.path.includes('/tags/list')).length,
      manifestGets: manifests.length,
      manifestMs: manifests.length === 0 ? 0 : manifests.reduce((sum, q: RequestRecord) => sum + q.end - q.start, 0) / manifests.length,
      stdout: r.stdout,
    };
  };
  const full: ListRun[] = [];
  const tagsOnly: ListRun[] = [];
  let limited: ListRun | undefined;
  let latest: ListRun | undefined;
  let listed = 0;
  const planned = Math.max(1, Math.min(ctx.settings.runs, 5));
  const runs = await bounded(planned, TAGS_BUDGET_MS, async (run) => {
    ctx.log(`  run ${run + 1}/${planned}`);
    const all = await measure([]);
    listed = all.stdout.split('\n').filter((line) => line.includes(`${repository}:`)).length;
    full.push(all);
    // A filter no tag matches: start-up and the tag list's pages, no manifest (the fixed part of the ideal).
    tagsOnly.push(await measure(['--filter-regex', '^none$']));
    if (run === 0) {
      limited = await measure(['--limit', String(LIMIT)]);
      latest = await measure(['--sort', 'semver', '--latest']);
    }
  });
  const byWall = (list: ListRun[]): ListRun => [...list].sort((a, b) => a.ms - b.ms)[Math.floor(list.length / 2)]!;
  const ours = byWall(full);
  const floor = byWall(tagsOnly);
  // The wall time a client keeping IN_FLIGHT manifest GETs always in flight needs: start-up and the tag pages
  // (measured), then TAGS / IN_FLIGHT manifest round trips of the mean time one took in this very run (with every
  // slot always busy, the GETs take their summed time divided by the slots).
  const waves = Math.ceil(TAGS / IN_FLIGHT);
  const ideal = floor.ms + waves * ours.manifestMs;
  const row = (name: string, m: ListRun, compared?: number): string[] => [
    name, ms(m.ms), String(m.requests), String(m.tagPages), String(m.manifestGets), String(m.roundTrips), compared === undefined ? '—' : ratio(m.ms / compared),
  ];
  const rows = [
    row(`list (${listed} rows: tag, digest, source, revision)`, ours, ideal),
    row('list --filter-regex matching nothing (tag pages only)', floor),
    ...(limited ? [row(`list --limit ${LIMIT}`, limited)] : []),
    ...(latest ? [row('list --sort semver --latest', latest)] : []),
  ];
  const targets: Target[] = [
    { name: `list ${TAGS} tags at +${TAG_LATENCY_MS} ms: wall against the tag pages + ${TAGS}/${IN_FLIGHT} round trips`, measured: ours.ms / ideal, limit: 1.2, unit: 'x' },
    { name: `list ${TAGS} tags: requests (the tag pages + one per tag)`, measured: ours.requests, limit: ours.tagPages + TAGS, unit: '' },
    { name: `list ${TAGS} tags --limit ${LIMIT}: requests`, measured: limited?.requests, limit: ours.tagPages + LIMIT, unit: '' },
    { name: `list ${TAGS} tags --latest: requests`, measured: latest?.requests, limit: ours.tagPages + 1, unit: '' },
  ];
  return {
    title: `(j) list of ${TAGS} tags, ${TAG_LATENCY_MS} ms added per request`,
    tables: [{
      columns: ['run', 'wall (median)', 'requests', 'tag pages', 'manifest GETs', 'round trips', 'against the ideal'],
      rows,
    }],
    notes: [
      `Median of ${runs} run(s) by wall time (--limit and --latest: one run). ${TAGS} tags on one manifest in one repository, read through a loopback proxy adding ${TAG_LATENCY_MS} ms to every request, ${IN_FLIGHT} manifests in flight (list's default).`,
      `The ideal is the tag-pages-only run's wall time (start-up and the tag list: ${floor.tagPages} request(s); list asks for pages of 1000 with \`?n=\` and follows Link headers, but Distribution 2.8 ignores \`n\` and answers all tags at once) plus ${waves} manifest round trips (${TAGS}/${IN_FLIGHT}) of ${ms(ours.manifestMs)}, the mean time of one manifest GET at the proxy in the same run: what a client that always keeps ${IN_FLIGHT} in flight waits for.`,
      `The round trips column is the longest chain of non-overlapping requests: ${waves} + ${ours.tagPages} for a client never letting a slot idle.`,
    ],
    targets,
  };
}

