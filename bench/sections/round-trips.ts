import { join } from 'node:path';
import { startProxy, type LoopbackProxy, type RequestRecord } from '../../test/helpers/proxy.js';
import { startSigstoreStandIns } from '../../test/helpers/sigstore-stand-ins.js';
import { cliEnv, PROVENANCE, ROOT, tagManifest, type BenchContext } from '../lib/context.js';
import { runOk, type RunResult } from '../lib/proc.js';
import { ms, type SectionResult, type Target } from '../lib/report.js';

/**
 * (b) Requests and sequential round trips per command, counted at a proxy that adds 50 ms to every request,
 * beside skopeo doing the same job. Plain registry, no auth.
 */
const LATENCY_MS = 50;
const LIST_TAGS = 10;
const SKOPEO_TLS = ['--insecure-policy'];

interface Measured {
  requests: number;
  roundTrips: number;
  ms: number;
  sequence: string;
}

export async function roundTrips(ctx: BenchContext): Promise<SectionResult> {
  const registry = await ctx.registry();
  const proxy = await startProxy({ target: registry.host, latencyMs: LATENCY_MS });
  try {
    return await measureAll(ctx, registry.host, proxy);
  } finally {
    await proxy.stop();
  }
}

async function measureAll(ctx: BenchContext, registryHost: string, proxy: LoopbackProxy): Promise<SectionResult> {
  const fixture = join(ROOT, 'fixtures', 'kustomize');
  const via = (repo: string): string => `${proxy.host}/${repo}`;
  const layout = join(ctx.work, 'rt-layout');
  const measure = async (command: () => Promise<RunResult>): Promise<Measured> => {
    proxy.reset();
    const r = await command();
    await proxy.idle();
    const stats = proxy.stats();
    return { requests: stats.requests, roundTrips: stats.roundTrips, ms: r.ms, sequence: sequenceOf(proxy.log) };
  };
  const skopeo = (args: string[]): Promise<RunResult> => runOk('skopeo', [...SKOPEO_TLS, ...args], { timeoutMs: 120_000 });

  ctx.log('  fresh push');
  const push = await measure(() => ctx.cliOk(['push', `oci://${via('rt/app')}:v1`, '--path', fixture, ...PROVENANCE]));
  // skopeo's source: the same artifact as an OCI layout, fetched straight from the registry (not measured).
  await skopeo(['copy', '--src-tls-verify=false', `docker://${registryHost}/rt/app:v1`, `oci:${layout}:v1`]);
  const skopeoPush = await measure(() => skopeo(['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${via('rt-skopeo/app')}:v1`]));
  ctx.log('  re-push');
  const repush = await measure(() => ctx.cliOk(['push', `oci://${via('rt/app')}:v1`, '--path', fixture, ...PROVENANCE]));
  const skopeoRepush = await measure(() => skopeo(['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${via('rt-skopeo/app')}:v1`]));
  ctx.log('  pull');
  const pull = await measure(() => ctx.cliOk(['pull', `oci://${via('rt/app')}:v1`, '--output', join(ctx.work, 'rt-pulled')]));
  const skopeoPull = await measure(() => skopeo(['copy', '--src-tls-verify=false', `docker://${via('rt/app')}:v1`, `oci:${join(ctx.work, 'rt-pulled-skopeo')}:v1`]));

  const rows: string[][] = [];
  const targets: Target[] = [];
  const row = (name: string, ours: Measured | undefined, peer: Measured | undefined, peerName: string, budget: string): void => {
    rows.push([
      name,
      ours ? String(ours.requests) : '—',
      ours ? String(ours.roundTrips) : '—',
      ours ? ms(ours.ms) : '—',
      peer ? `${peer.requests} / ${peer.roundTrips} / ${ms(peer.ms)}` : '—',
      peerName,
      budget,
    ]);
  };
  row('fresh push', push, skopeoPush, 'skopeo copy oci: → docker://', '≤ 7 requests, ≤ 4 round trips');
  row('re-push, unchanged', repush, skopeoRepush, 'the same copy again', '≤ 3 requests, ≤ 2 round trips');
  row('pull', pull, skopeoPull, 'skopeo copy docker:// → oci:', '≤ 2 requests, ≤ 2 round trips');
  targets.push(
    { name: 'fresh push: requests', measured: push.requests, limit: 7, unit: '' },
    { name: 'fresh push: sequential round trips', measured: push.roundTrips, limit: 4, unit: '' },
    { name: 're-push unchanged: requests', measured: repush.requests, limit: 3, unit: '' },
    { name: 're-push unchanged: sequential round trips', measured: repush.roundTrips, limit: 2, unit: '' },
    { name: 'pull: requests', measured: pull.requests, limit: 2, unit: '' },
    { name: 'pull: sequential round trips', measured: pull.roundTrips, limit: 2, unit: '' },
  );
  const sequences = [`fresh push: ${push.sequence}`, `re-push: ${repush.sequence}`, `pull: ${pull.sequence}`];

  // Keyless push --sign in a simulated GitHub Actions job, Fulcio and Rekor being the suite's loopback stand-ins
  // (only the registry is behind the 50 ms proxy: Sigstore's requests are the signature's cost, not the registry's).
  ctx.log('  keyless push --sign');
  const sigstore = await startSigstoreStandIns(ctx.work);
  try {
    const env = { ...cliEnv(), ...sigstore.githubActionsEnv() };
    const keyless = ['--sign', '--fulcio-url', sigstore.fulcio.url, '--rekor-url', sigstore.rekor.url, '--trusted-root', sigstore.trustedRootPath];
    const signedPush = async (tag: string, format: string): Promise<Measured> =>
      measure(() => ctx.cliOk(['push', `oci://${via('rt/keyless')}:${tag}`, '--path', fixture, ...PROVENANCE, ...keyless, '--sign-format', format], { env }));
    const legacy = await signedPush('legacy', 'legacy');
    const bundle = await signedPush('bundle', 'bundle');
    row('push --sign, keyless, legacy .sig', legacy, undefined, 'cosign sign (not run: no public Sigstore here)', `≤ push + 8 requests (${push.requests + 8})`);
    row('push --sign, keyless, v3 bundle', bundle, undefined, '', `≤ push + 11 requests (${push.requests + 11})`);
    targets.push(
      { name: 'keyless push --sign (legacy): requests', measured: legacy.requests, limit: push.requests + 8, unit: '' },
      { name: 'keyless push --sign (legacy): sequential round trips', measured: legacy.roundTrips, limit: push.roundTrips + 5, unit: '' },
      { name: 'keyless push --sign (bundle): requests', measured: bundle.requests, limit: push.requests + 11, unit: '' },
    );
    sequences.push(`keyless push --sign (legacy): ${legacy.sequence}`, `keyless push --sign (bundle): ${bundle.sequence}`);
  } finally {
    await sigstore.stop();
  }

  if (await ctx.hasCommand('tag')) {
    ctx.log('  tag');
    const tag = await measure(() => ctx.cliOk(['tag', `oci://${via('rt/app')}:v1`, '--tag', 'v2']));
    const skopeoTag = await measure(() => skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${via('rt/app')}:v1`, `docker://${via('rt/app')}:v3`]));
    row('tag', tag, skopeoTag, 'skopeo copy docker:// → docker:// (same repo)', '≤ 2 requests');
    targets.push({ name: 'tag: requests', measured: tag.requests, limit: 2, unit: '' });
    sequences.push(`tag: ${tag.sequence}`);
  } else {
    row('tag', undefined, undefined, '', 'command not present in this build');
    targets.push({ name: 'tag: requests', measured: undefined, limit: 2, unit: '', missing: 'no tag command' });
  }

  if (await ctx.hasCommand('list')) {
    ctx.log('  list');
    await ctx.cliOk(['push', `oci://${registryHost}/rt/list:t00`, '--path', fixture, ...PROVENANCE]);
    await tagManifest(registryHost, 'rt/list', 't00', Array.from({ length: LIST_TAGS - 1 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`));
    const list = await measure(() => ctx.cliOk(['list', `oci://${via('rt/list')}`]));
    const skopeoList = await measure(() => skopeo(['list-tags', '--tls-verify=false', `docker://${via('rt/list')}`]));
    row(`list of ${LIST_TAGS} tags`, list, skopeoList, 'skopeo list-tags (tags only, no manifests)', '—');
    sequences.push(`list: ${list.sequence}`);
  } else {
    row('list', undefined, undefined, '', 'command not present in this build');
  }

  return {
    title: `(b) Requests and sequential round trips (${LATENCY_MS} ms added per request)`,
    tables: [{
      columns: ['operation', 'requests', 'round trips', `wall at ${LATENCY_MS} ms`, 'peer: requests / round trips / wall', 'peer', 'issue budget'],
      rows,
    }],
    notes: [
      'Counted at a loopback proxy in front of the registry (test/helpers/proxy.ts); a round trip is one link of the longest chain of requests that do not overlap in time.',
      'A client that HEADs, POSTs and PUTs each blob one after the other needs 7 sequential round trips for a fresh push.',
      'Keyless push --sign: the push, then the signature alone: legacy, one read of the .sig manifest (a new signature is appended to the ones there) and its uploads (two blobs side by side, the manifest); bundle, its uploads and the referrers listing (the API probe, the fallback index read and updated). The Fulcio and Rekor requests go to loopback stand-ins and are not counted.',
      'The failed TLS probe a client makes before falling back to plain HTTP on loopback is not an HTTP request and is not counted.',
      `Request order (parallel requests share a wave, waves separated by " | "): ${sequences.join('; ')}.`,
    ],
    targets,
  };
}

/** `HEAD blob ×2 | POST upload ×2 | …`: requests grouped into waves of overlapping requests. */
function sequenceOf(log: readonly RequestRecord[]): string {
  const sorted = [...log].sort((a, b) => a.start - b.start);
  const waves: string[][] = [];
  let waveEnd = -Infinity;
  for (const r of sorted) {
    if (r.start >= waveEnd) {
      waves.push([]);
      waveEnd = r.end;
    } else {
      waveEnd = Math.min(waveEnd, r.end);
    }
    waves[waves.length - 1]!.push(`${r.method} ${kindOf(r.path)}`);
  }
  return waves.map((wave) => {
    const counts = new Map<string, number>();
    for (const w of wave) counts.set(w, (counts.get(w) ?? 0) + 1);
    return [...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');
  }).join(' | ');
}

function kindOf(path: string): string {
  if (path.includes('/blobs/uploads')) return 'upload';
  if (path.includes('/blobs/')) return 'blob';
  if (path.includes('/manifests/')) return 'manifest';
  if (path.includes('/tags/list')) return 'tags';
  if (path.includes('/referrers/')) return 'referrers';
  return path.split('?')[0]!;
}
