import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startProxy, type LoopbackProxy } from '../../test/helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../../test/helpers/registry.js';
import { bounded, httpCall, PROVENANCE, putBlob, putManifest, type BenchContext } from '../lib/context.js';
import { writeYamlTree } from '../lib/corpus.js';
import { runOk, type RunResult } from '../lib/proc.js';
import { median, ms, ratio, type SectionResult, type Target } from '../lib/report.js';

/**
 * (g) Copy of many releases between two registries: 50 tags of one repository (small Flux artifacts, pairs of
 * releases sharing their content layer, all sharing the config blob), `copy --all-tags` against `skopeo sync` of
 * the same tags, fresh and again with nothing to do. Each registry sits behind its own proxy adding 20 ms per
 * request (a registry that is not on the same machine); requests are counted at both.
 */
const RELEASES = 50;
const CONTENTS = 25;
const LATENCY_MS = 20;
const MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const SKOPEO = ['--insecure-policy', 'sync', '--src', 'docker', '--dest', 'docker', '--src-tls-verify=false', '--dest-tls-verify=false', '--preserve-digests'];

interface Measured {
  requests: number;
  ms: number;
  byMethod: string;
}

export async function copy(ctx: BenchContext): Promise<SectionResult> {
  const source = await ctx.registry();
  const target = await startRegistry();
  const proxies: LoopbackProxy[] = [];
  try {
    proxies.push(await startProxy({ target: source.host, latencyMs: LATENCY_MS }), await startProxy({ target: target.host, latencyMs: LATENCY_MS }));
    return await measureAll(ctx, source, proxies[0]!, proxies[1]!);
  } finally {
    await Promise.all(proxies.map((p) => p.stop()));
    await target.stop();
  }
}

async function measureAll(ctx: BenchContext, source: TestRegistry, from: LoopbackProxy, to: LoopbackProxy): Promise<SectionResult> {
  ctx.log(`  seeding ${RELEASES} releases`);
  const seedStarted = performance.now();
  await seed(ctx, source.host);
  const seedMs = performance.now() - seedStarted;

  const measure = async (command: () => Promise<RunResult>): Promise<Measured> => {
    from.reset();
    to.reset();
    const r = await command();
    await Promise.all([from.idle(), to.idle()]);
    const methods = new Map<string, number>();
    for (const record of [...from.log, ...to.log]) methods.set(record.method, (methods.get(record.method) ?? 0) + 1);
    return {
      requests: from.log.length + to.log.length,
      ms: r.ms,
      byMethod: [...methods].sort().map(([m, n]) => `${m} ${n}`).join(', '),
    };
  };
  const ours = (dst: string, extra: string[] = []) => () => ctx.cliOk(['copy', `oci://${from.host}/rel/app`, `oci://${to.host}/${dst}/app`, '--all-tags', ...extra], { timeoutMs: 180_000 });
  const skopeo = (dst: string) => () => runOk('skopeo', [...SKOPEO, `${from.host}/rel/app`, `${to.host}/${dst}`], { timeoutMs: 180_000 });

  const runs: Record<'ours' | 'oursBare' | 'skopeo' | 'oursAgain' | 'oursBareAgain' | 'skopeoAgain', Measured[]> = {
    ours: [], oursBare: [], skopeo: [], oursAgain: [], oursBareAgain: [], skopeoAgain: [],
  };
  // Interleaved, each run into fresh destination repositories; the second command of each pair finds them in sync.
  const count = await bounded(ctx.settings.largeRuns, 90_000, async (i) => {
    ctx.log(`  run ${i + 1}`);
    runs.skopeo.push(await measure(skopeo(`sk${i}`)));
    runs.skopeoAgain.push(await measure(skopeo(`sk${i}`)));
    runs.ours.push(await measure(ours(`oa${i}`)));
    runs.oursAgain.push(await measure(ours(`oa${i}`)));
    runs.oursBare.push(await measure(ours(`ob${i}`, ['--no-include-signatures'])));
    runs.oursBareAgain.push(await measure(ours(`ob${i}`, ['--no-include-signatures'])));
  });

  const best = (list: Measured[]): Measured => list.reduce((a, b) => (b.ms < a.ms ? b : a));
  const wall = (list: Measured[]): string => `${ms(best(list).ms)} (median ${ms(median(list.map((m) => m.ms)))})`;
  const row = (name: string, list: Measured[], versus: Measured[] | undefined): string[] => [
    name, String(best(list).requests), wall(list), versus === undefined ? '—' : ratio(best(list).ms / best(versus).ms), best(list).byMethod,
  ];
  const targets: Target[] = [
    { name: `copy of ${RELEASES} releases vs skopeo sync: wall`, measured: best(runs.ours).ms / best(runs.skopeo).ms, limit: 1, unit: 'x' },
    { name: `copy of ${RELEASES} releases: requests (skopeo sync: ${best(runs.skopeo).requests})`, measured: best(runs.ours).requests, limit: best(runs.skopeo).requests, unit: '' },
    { name: `unchanged re-copy of ${RELEASES} releases vs skopeo sync: wall`, measured: best(runs.oursAgain).ms / best(runs.skopeoAgain).ms, limit: 1, unit: 'x' },
    { name: `unchanged re-copy: requests (skopeo sync: ${best(runs.skopeoAgain).requests})`, measured: best(runs.oursAgain).requests, limit: best(runs.skopeoAgain).requests, unit: '' },
  ];
  return {
    title: `(g) Copy of ${RELEASES} releases between two registries (${LATENCY_MS} ms added per request)`,
    tables: [{
      columns: ['command', 'requests', 'wall: best (median)', 'vs skopeo sync', 'requests by method'],
      rows: [
        row('skopeo sync --src docker --dest docker', runs.skopeo, undefined),
        row('copy --all-tags', runs.ours, runs.skopeo),
        row('copy --all-tags --no-include-signatures', runs.oursBare, runs.skopeo),
        row('skopeo sync, again (nothing to do)', runs.skopeoAgain, undefined),
        row('copy --all-tags, again', runs.oursAgain, runs.skopeoAgain),
        row('copy --all-tags --no-include-signatures, again', runs.oursBareAgain, runs.skopeoAgain),
      ],
    }],
    notes: [
      `${RELEASES} tags of one repository: ${CONTENTS} distinct content layers (two releases each) and one config blob, each release its own manifest (its revision annotation differs); seeded in ${ms(seedMs)}.`,
      `${count} interleaved run(s), each into fresh destination repositories; the "again" rows repeat the same command at once. Requests counted at both proxies (test/helpers/proxy.ts).`,
      '`copy` carries signatures, attestations and referrers by default: a referrers query per release (on this registry, without the referrers API, a read of the fallback tag), cosign\'s .sig/.att/.sbom tags looked up in the tag list it fetched; skopeo sync 1.9 carries none, so the row without them is the same job.',
      'skopeo is run with --preserve-digests (the same manifest bytes, as copy keeps them) and plain HTTP on loopback (the failed TLS probe is not an HTTP request and is not counted).',
    ],
    targets,
  };
}

/**
 * One `push` gives a real Flux manifest; the other releases are made from it at the registry: CONTENTS layers
 * (`tar -cz` of small YAML trees), release i pointing at layer i % CONTENTS under its own revision annotation.
 */
async function seed(ctx: BenchContext, registryHost: string): Promise<void> {
  const trees = Array.from({ length: CONTENTS }, (_, k) => {
    const tree = join(ctx.work, 'copy-releases', `content-${k}`);
    writeYamlTree(tree, { totalBytes: 32 * 1024 + k * 1024, files: 8, perDir: 4 });
    return tree;
  });
  await ctx.cliOk(['push', `oci://${registryHost}/rel/app:template`, '--path', trees[0]!, ...PROVENANCE]);
  const template = await httpCall('GET', `http://${registryHost}/v2/rel/app/manifests/template`, { accept: MEDIA_TYPE });
  const manifest = JSON.parse(template.body.toString('utf8')) as { layers: Array<{ digest: string; size: number }>; annotations: Record<string, string> };
  const layers: Array<{ digest: string; size: number }> = [];
  for (const tree of trees) {
    const bytes = execFileSync('tar', ['-C', tree, '-czf', '-', '.'], { maxBuffer: 64 * 1024 * 1024 });
    layers.push({ digest: await putBlob(registryHost, 'rel/app', bytes), size: bytes.length });
  }
  for (let i = 0; i < RELEASES; i++) {
    const release = structuredClone(manifest);
    release.layers[0] = { ...release.layers[0]!, ...layers[i % CONTENTS]! };
    release.annotations['org.opencontainers.image.revision'] = `main@sha1:${i.toString(16).padStart(40, '0')}`;
    await putManifest(registryHost, 'rel/app', `1.${Math.floor(i / 10)}.${i % 10}`, MEDIA_TYPE, Buffer.from(JSON.stringify(release)));
  }
  // Only the releases: the template tag would be a 51st.
  const deleted = await httpCall('DELETE', `http://${registryHost}/v2/rel/app/manifests/${template.headers['docker-content-digest']}`, {});
  if (deleted.status !== 202) throw new Error(`removing the template manifest answered ${deleted.status}`);
}
