import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeYamlTree } from '../lib/corpus.js';
import { NODE, PROVENANCE, bounded, type BenchContext } from '../lib/context.js';
import { runOk } from '../lib/proc.js';
import { median, mib, ms, ratio, type SectionResult } from '../lib/report.js';

/**
 * (c) Wall time of push and pull of a typical Kustomize tree (300 YAML files, 3 MiB) against the local registry,
 * beside `skopeo copy` of the same artifact (OCI layout → registry, registry → OCI layout).
 */
const FILES = 300;
const BYTES = 3 * 1024 * 1024;
const SKOPEO = ['--insecure-policy'];

export async function kustomize(ctx: BenchContext): Promise<SectionResult> {
  const registry = await ctx.registry();
  const tree = join(ctx.work, 'kustomize-tree');
  writeYamlTree(tree, { totalBytes: BYTES, files: FILES, perDir: 10 });
  const reg = registry.host;
  const layout = join(ctx.work, 'kz-layout');
  await ctx.cliOk(['push', `oci://${reg}/kz/warm:v1`, '--path', tree, ...PROVENANCE]);
  await runOk('skopeo', [...SKOPEO, 'copy', '--src-tls-verify=false', `docker://${reg}/kz/warm:v1`, `oci:${layout}:v1`]);

  const t = { node: [] as number[], push: [] as number[], skopeoPush: [] as number[], pull: [] as number[], skopeoPull: [] as number[] };
  const rss = { push: [] as number[], pull: [] as number[] };
  const runs = await bounded(ctx.settings.runs, 180_000, async (i) => {
    t.node.push((await runOk(NODE, ['-e', '0'])).ms);
    const pushed = await ctx.cliOk(['push', `oci://${reg}/kz/p${i}:v1`, '--path', tree, ...PROVENANCE], { measureRss: true });
    t.push.push(pushed.ms);
    rss.push.push(pushed.peakRssMiB ?? 0);
    t.skopeoPush.push((await runOk('skopeo', [...SKOPEO, 'copy', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${reg}/kz/s${i}:v1`])).ms);
    const out = join(ctx.work, `kz-out-${i}`);
    const pulled = await ctx.cliOk(['pull', `oci://${reg}/kz/warm:v1`, '--output', out], { measureRss: true });
    t.pull.push(pulled.ms);
    rss.pull.push(pulled.peakRssMiB ?? 0);
    const skopeoOut = join(ctx.work, `kz-skopeo-${i}`);
    t.skopeoPull.push((await runOk('skopeo', [...SKOPEO, 'copy', '--src-tls-verify=false', `docker://${reg}/kz/warm:v1`, `oci:${skopeoOut}:v1`])).ms);
    rmSync(out, { recursive: true, force: true });
    rmSync(skopeoOut, { recursive: true, force: true });
  });
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<keyof typeof t, number>;
  return {
    title: `(c) Kustomize tree: ${FILES} YAML files, ${BYTES / 1024 / 1024} MiB, local registry`,
    tables: [{
      columns: ['operation', 'oci-artifact', 'peak RSS', 'skopeo copy', 'ratio', 'node -e 0'],
      rows: [
        ['push (fresh repository)', ms(m.push), mib(Math.max(...rss.push)), ms(m.skopeoPush), ratio(m.push / m.skopeoPush), ms(m.node)],
        ['pull (extracted; skopeo writes an OCI layout)', ms(m.pull), mib(Math.max(...rss.pull)), ms(m.skopeoPull), ratio(m.pull / m.skopeoPull), ms(m.node)],
      ],
    }],
    notes: [`Median of ${runs} interleaved runs; no added latency. Part of every oci-artifact figure is node's own start (last column).`],
    targets: [],
  };
}
