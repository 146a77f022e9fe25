import { join } from 'node:path';
import { startProxy } from '../../test/helpers/proxy.js';
import { PROVENANCE, ROOT, bounded, tagManifest, type BenchContext } from '../lib/context.js';
import { runOk, type RunResult } from '../lib/proc.js';
import { median, ms, ratio, type SectionResult } from '../lib/report.js';

/**
 * (e) `list` of 200 tags with 20 ms added to every request. Baselines through the same proxy: the same command
 * fetching one manifest at a time (`--concurrency 1`, what a sequential client does), and `skopeo list-tags`,
 * which fetches only the tag names (the floor: start-up plus one request).
 */
const TAGS = 200;
const LATENCY_MS = 20;

export async function list(ctx: BenchContext): Promise<SectionResult> {
  const title = `(e) list of ${TAGS} tags, ${LATENCY_MS} ms added per request`;
  if (!(await ctx.hasCommand('list'))) {
    return { title, tables: [], notes: ['The list command is not present in this build.'], targets: [{ name: `list ${TAGS} tags: requests`, measured: undefined, limit: TAGS + 1, unit: '', missing: 'no list command' }] };
  }
  const registry = await ctx.registry();
  await ctx.cliOk(['push', `oci://${registry.host}/list/app:t000`, '--path', join(ROOT, 'fixtures', 'kustomize'), ...PROVENANCE]);
  await tagManifest(registry.host, 'list/app', 't000', Array.from({ length: TAGS - 1 }, (_, i) => `t${String(i + 1).padStart(3, '0')}`));
  const proxy = await startProxy({ target: registry.host, latencyMs: LATENCY_MS });
  try {
    const ours: { r: RunResult; requests: number; roundTrips: number }[] = [];
    const peer: { r: RunResult; requests: number; roundTrips: number }[] = [];
    const sequential: { r: RunResult; requests: number; roundTrips: number }[] = [];
    const measure = async (into: typeof ours, command: () => Promise<RunResult>): Promise<void> => {
      proxy.reset();
      const r = await command();
      await proxy.idle();
      const stats = proxy.stats();
      into.push({ r, requests: stats.requests, roundTrips: stats.roundTrips });
    };
    const runs = await bounded(ctx.settings.runs, 120_000, async () => {
      await measure(ours, () => ctx.cliOk(['list', `oci://${proxy.host}/list/app`], { captureStdout: true }));
      await measure(sequential, () => ctx.cliOk(['list', `oci://${proxy.host}/list/app`, '--concurrency', '1'], { captureStdout: true }));
      await measure(peer, () => runOk('skopeo', ['list-tags', '--tls-verify=false', `docker://${proxy.host}/list/app`], { captureStdout: true }));
    });
    const listed = ours[0]!.r.stdout.split('\n').filter((line) => /\bt\d{3}\b/.test(line)).length;
    const oursMs = median(ours.map((o) => o.r.ms));
    const peerMs = median(peer.map((o) => o.r.ms));
    const oneByOneMs = median(sequential.map((o) => o.r.ms));
    const row = (name: string, m: typeof ours, wall: number): string[] =>
      [name, ms(wall), String(m[0]!.requests), String(m[0]!.roundTrips), ratio(wall / oneByOneMs), ratio(wall / peerMs)];
    return {
      title,
      tables: [{
        columns: ['client', 'wall (median)', 'requests', 'round trips', 'vs one at a time', 'vs skopeo list-tags'],
        rows: [
          row(`oci-artifact list (tag, digest, source and revision of each; ${listed} rows)`, ours, oursMs),
          row('oci-artifact list --concurrency 1 (one manifest at a time)', sequential, oneByOneMs),
          row('skopeo list-tags (tag names only, no manifests)', peer, peerMs),
        ],
      }],
      notes: [`Median of ${runs} run(s) of each.`],
      targets: [{ name: `list ${TAGS} tags: each manifest fetched once (requests)`, measured: ours[0]!.requests, limit: TAGS + 1, unit: '' }],
    };
  } finally {
    await proxy.stop();
  }
}
