import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { sequentialRoundTrips, startProxy, type LoopbackProxy, type RequestStats } from '../helpers/proxy.js';
import { startSigstoreStandIns, type SigstoreStandIns } from '../helpers/sigstore-stand-ins.js';

/**
 * The request budgets of issue 9, counted at the real registry through a proxy that adds 50 ms per request:
 * what a user on a distant registry waits for is sequential round trips. Plain registry, no auth (a token would
 * add one round trip).
 */
const LATENCY_MS = 50;

const registry = useRegistry();
const work = useWorkDir();
let proxy: LoopbackProxy;

beforeAll(async () => {
  proxy = await startProxy({ target: registry.host, latencyMs: LATENCY_MS });
});
afterAll(async () => {
  await proxy?.stop();
});

/** Run the CLI against the proxy and return what reached the registry. */
async function measured(args: string[], env?: Record<string, string>): Promise<RequestStats & { log: string[] }> {
  proxy.reset();
  const r = await runCli(args, { env });
  expect(r.stderr).not.toContain('✗');
  expect(r.code).toBe(0);
  await proxy.idle();
  return { ...proxy.stats(), log: proxy.log.map((e) => `${e.method} ${e.path.replace(/\?.*/, '')} ${e.status}`) };
}

describe('request budgets against the registry (issue 9)', () => {
  const ref = (tag: string): string => `oci://${proxy.host}/budget/app:${tag}`;

  it('fresh push: at most 7 requests in at most 4 sequential round trips', async () => {
    const push = await measured(['push', ref('v1'), '--path', KUSTOMIZE_FIXTURE, ...PROVENANCE]);
    expect(push.requests, push.log.join('\n')).toBeLessThanOrEqual(7);
    expect(push.roundTrips, push.log.join('\n')).toBeLessThanOrEqual(4);
    expect(push.byMethod.PUT, 'two blobs and the manifest were written').toBeGreaterThanOrEqual(3);
  });

  it('re-push of unchanged content: HEADs plus one manifest PUT, in at most 2 round trips', async () => {
    const again = await measured(['push', ref('v1-again'), '--path', KUSTOMIZE_FIXTURE, ...PROVENANCE]);
    expect(again.requests, again.log.join('\n')).toBeLessThanOrEqual(3);
    expect(again.roundTrips, again.log.join('\n')).toBeLessThanOrEqual(2);
    expect(again.byMethod.POST ?? 0, 'no upload was opened').toBe(0);
  });

  it('pull: the manifest and the layer, nothing else', async () => {
    const pull = await measured(['pull', ref('v1'), '--output', join(work.path, 'pulled')]);
    expect(pull.requests, pull.log.join('\n')).toBeLessThanOrEqual(2);
    expect(pull.roundTrips, pull.log.join('\n')).toBeLessThanOrEqual(2);
  });
});

describe('keyless push --sign: the push, then only the signature (issue 14 item 4)', () => {
  // One repository per measured push, so each is a fresh push (no blob already there).
  const ref = (repo: string): string => `oci://${proxy.host}/budget/keyless-${repo}:v1`;
  let sigstore: SigstoreStandIns;
  beforeAll(async () => {
    sigstore = await startSigstoreStandIns(work.path);
  });
  afterAll(async () => {
    await sigstore?.stop();
  });
  const keyless = (): string[] => ['--sign', '--fulcio-url', sigstore.fulcio.url, '--rekor-url', sigstore.rekor.url, '--trusted-root', sigstore.trustedRootPath];
  const push = (repo: string): string[] => ['push', ref(repo), '--path', KUSTOMIZE_FIXTURE, ...PROVENANCE];
  /** The artifact's manifest read back by digest: what push --sign must not cost, it has just written it. */
  const manifestReads = (log: string[]): string[] => log.filter((l) => /^GET \/v2\/budget\/keyless-[a-z-]+\/manifests\/sha256:/.test(l));

  it('legacy .sig: a push, one read of the .sig manifest, two blob uploads side by side and the manifest PUT', async () => {
    const plain = await measured(push('plain'));
    const signed = await measured([...push('legacy'), ...keyless()], sigstore.githubActionsEnv());
    // The signature's own uploads: payload and config blobs (HEAD, POST, PUT each) and the .sig manifest; plus the
    // read of the .sig manifest, whose signatures a new one is appended to.
    expect(signed.requests, signed.log.join('\n')).toBeLessThanOrEqual(plain.requests + 7 + 1);
    expect(signed.roundTrips, signed.log.join('\n')).toBeLessThanOrEqual(plain.roundTrips + 5);
    expect(manifestReads(signed.log)).toEqual([]);
  });

  it('v3 bundle: a push, the referrer uploads and manifest, and the referrers listing kept up to date', async () => {
    const plain = await measured(push('plain-b'));
    const signed = await measured([...push('bundle'), ...keyless(), '--sign-format', 'bundle'], sigstore.githubActionsEnv());
    // Uploads: config and bundle blobs, the referrer manifest, the fallback index; reads: the referrers API probe
    // (404 on Distribution) and the fallback index, read by the listing and again by its update.
    expect(signed.requests, signed.log.join('\n')).toBeLessThanOrEqual(plain.requests + 8 + 3);
    expect(signed.roundTrips, signed.log.join('\n')).toBeLessThanOrEqual(plain.roundTrips + 8);
    expect(manifestReads(signed.log)).toEqual([]);
  });
});

describe('the measuring proxy', () => {
  it('counts overlapping requests as one round trip and chained ones separately', () => {
    expect(sequentialRoundTrips([])).toBe(0);
    // Two parallel HEADs, then two parallel uploads, then one manifest PUT.
    const log = [
      { start: 0, end: 50 }, { start: 1, end: 51 },
      { start: 52, end: 100 }, { start: 53, end: 120 },
      { start: 121, end: 170 },
    ];
    expect(sequentialRoundTrips(log)).toBe(3);
    expect(sequentialRoundTrips([{ start: 0, end: 10 }, { start: 10, end: 20 }, { start: 20, end: 30 }])).toBe(3);
    // A long request overlapping a chain of short ones does not shorten the chain.
    expect(sequentialRoundTrips([{ start: 0, end: 100 }, { start: 1, end: 10 }, { start: 11, end: 20 }])).toBe(2);
  });

  it('lets a hook answer, reset or truncate a request, and logs what the client saw', async () => {
    const hooked = await startProxy({ target: registry.host });
    try {
      hooked.onRequest = (req) => {
        if (req.path === '/v2/answer') return { kind: 'respond', status: 429, headers: { 'retry-after': '1' }, body: 'slow down' };
        if (req.path === '/v2/reset') return { kind: 'reset' };
        if (req.path === '/v2/' && req.attempt === 2) return { kind: 'forward', truncateResponseAt: 1 };
        if (req.path === '/v2/' && req.attempt === 3) return { kind: 'forward', status: 503, mutateBody: (c) => Buffer.from(c.toString().replace('{}', '[]')) };
        return undefined;
      };
      expect(await get(`${hooked.url}/v2/answer`)).toEqual({ status: 429, body: 'slow down', retryAfter: '1' });
      await expect(get(`${hooked.url}/v2/reset`)).rejects.toThrow();
      expect((await get(`${hooked.url}/v2/`)).status).toBe(200); // attempt 1: forwarded
      await expect(get(`${hooked.url}/v2/`)).rejects.toThrow(); // attempt 2: cut after one byte of "{}"
      expect(await get(`${hooked.url}/v2/`)).toEqual({ status: 503, body: '[]' }); // attempt 3: handled, then rewritten
      await hooked.idle();
      expect(hooked.log.map((r) => [r.path, r.action, r.status])).toEqual([
        ['/v2/answer', 'respond', 429],
        ['/v2/reset', 'reset', 0],
        ['/v2/', 'forward', 200],
        ['/v2/', 'forward', 200],
        ['/v2/', 'forward', 503],
      ]);
      expect(hooked.log[3]!.bytesOut).toBe(1);
    } finally {
      await hooked.stop();
    }
  });
});

function get(url: string): Promise<{ status: number; body: string; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('aborted')));
      res.on('end', () => {
        const out: { status: number; body: string; retryAfter?: string } = { status: res.statusCode ?? 0, body };
        if (res.headers['retry-after'] !== undefined) out.retryAfter = res.headers['retry-after'];
        resolve(out);
      });
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}
