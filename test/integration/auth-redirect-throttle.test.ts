import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { fetchUpstream } from '../helpers/faults.js';
import { startProxy, type LoopbackProxy, type ProxyAction, type ProxyRequest } from '../helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/**
 * The htpasswd registry behind a proxy that behaves like a hosted registry: blob downloads are redirected to
 * another origin (object storage with a signed URL) that must never see the Authorization header, uploads meet
 * 503 twice, and the manifest PUT is throttled once with 429 and Retry-After: 1.
 */
const USER = 'throttled';
const CANARY = 'canary-redirect-pw-6a0f3d9b';

let registry: TestRegistry;
let front: LoopbackProxy;
let storage: { url: string; hits: { path: string; authorization?: string }[]; stop(): Promise<void> };
let work: { path: string; remove(): Promise<void> };
const stash = new Map<string, Buffer>();
let uploadPosts503 = 0;
let manifestPut429At: number | undefined;
let manifestPutRetryAt: number | undefined;
const results: CliResult[] = [];

/** The hosted registry's behaviour in front of the real one; `undefined` passes the request through. */
async function hostedFront(req: ProxyRequest): Promise<ProxyAction | undefined> {
  if (req.headers.authorization === undefined) return undefined;
  if (req.method === 'GET' && /\/blobs\/sha256:[0-9a-f]{64}$/.test(req.path)) {
    // Authorised blob download: redirect to storage with a one-off signed name, as S3/GCS-backed registries do.
    // The storage holds the bytes the registry itself serves.
    // In repository redirect/challenge the storage answers 401 with a challenge of its own (see `storage`).
    const key = `${req.path.includes('/redirect/challenge/') ? 'challenge-' : ''}${randomBytes(8).toString('hex')}`;
    stash.set(key, (await fetchUpstream(registry.host, req)).body);
    return { kind: 'respond', status: 307, headers: { location: `${storage.url}/${key}?X-Amz-Signature=${randomBytes(8).toString('hex')}` } };
  }
  if (req.method === 'POST' && /\/blobs\/uploads\/$/.test(req.path) && uploadPosts503 < 2) {
    uploadPosts503++;
    return { kind: 'respond', status: 503, headers: { 'content-type': 'text/plain' }, body: 'busy' };
  }
  if (req.method === 'PUT' && /\/manifests\//.test(req.path)) {
    if (manifestPut429At === undefined) {
      manifestPut429At = Date.now();
      return {
        kind: 'respond',
        status: 429,
        headers: { 'retry-after': '1', 'content-type': 'application/json' },
        body: JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }),
      };
    }
    manifestPutRetryAt ??= Date.now();
  }
  return undefined;
}

beforeAll(async () => {
  [registry, work] = await Promise.all([startRegistry({ htpasswd: { username: USER, password: CANARY } }), tempDir('redirect-test-')]);
  const hits: { path: string; authorization?: string }[] = [];
  const server = createServer((req, res) => {
    hits.push({ path: req.url ?? '', authorization: req.headers.authorization });
    const key = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
    if (key.startsWith('challenge-') || key === 'token') {
      // A foreign origin asking for credentials, with a token realm of its own: it must never get the registry's.
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${storage.url}/token",service="storage"`, 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const bytes = stash.get(key);
    if (bytes === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  storage = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };

  front = await startProxy({ target: registry.host, onRequest: hostedFront });
  mkdirSync(join(work.path, 'content'));
  writeFileSync(join(work.path, 'content', 'app.yaml'), 'kind: ConfigMap\nmetadata:\n  name: redirected\n');
});

afterAll(async () => {
  await Promise.all([front?.stop(), storage?.stop(), registry?.stop(), work?.remove()]);
  for (const r of results) expect(r.stdout + r.stderr).not.toContain(CANARY);
});

async function cli(args: string[]): Promise<CliResult> {
  const r = await runCli([...args, '--creds', `${USER}:${CANARY}`], { env: { DOCKER_CONFIG: join(work.path, 'none') } });
  results.push(r);
  return r;
}

describe('a throttling, redirecting registry front', () => {
  it('pushes through 503 twice and a 429 with Retry-After: 1', async () => {
    const push = await cli(['push', `oci://${front.host}/redirect/app:v1`, '-f', join(work.path, 'content'), '--source', 'https://example.com/x', '--revision', 'main@sha1:abc', '--debug']);
    expect(push.code, push.stderr).toBe(0);
    expect(uploadPosts503).toBe(2);
    expect(manifestPut429At).toBeDefined();
    expect(manifestPutRetryAt! - manifestPut429At!).toBeGreaterThanOrEqual(950);
    // --debug prints headers: the scheme word of Authorization, never the credentials.
    expect(push.stderr).toMatch(/Basic REDACTED/);
  });

  it('pulls blobs from the redirect target without sending it the Authorization header', async () => {
    const out = join(work.path, 'out');
    const pull = await cli(['pull', `oci://${front.host}/redirect/app:v1`, '-o', out, '--verbose']);
    expect(pull.code, pull.stderr).toBe(0);
    expect(readFileSync(join(out, 'app.yaml'), 'utf8')).toContain('name: redirected');
    expect(storage.hits.length).toBeGreaterThan(0);
    expect(storage.hits.every((h) => h.authorization === undefined)).toBe(true);
    // The signed query is redacted in the request log.
    expect(pull.stderr).toMatch(/X-Amz-Signature=REDACTED/);
  });

  it('never sends the credentials to a redirect target that answers 401 with its own challenge', async () => {
    const content = join(work.path, 'content');
    const push = await cli(['push', `oci://${front.host}/redirect/challenge:v1`, '-f', content, '--source', 'https://example.com/x', '--revision', 'main@sha1:abc']);
    expect(push.code, push.stderr).toBe(0);
    const before = storage.hits.length;
    const pull = await cli(['pull', `oci://${front.host}/redirect/challenge:v1`, '-o', join(work.path, 'out-challenge')]);
    const hits = storage.hits.slice(before);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.filter((h) => h.authorization !== undefined)).toEqual([]);
    expect(hits.every((h) => h.path.startsWith('/challenge-'))).toBe(true); // its token realm was never asked
    expect(pull.code).toBe(3);
    expect(pull.stderr).toMatch(new RegExp(`✗ registry ${front.host} redirected blob redirect/challenge@sha256:[0-9a-f]+ to http://127\\.0\\.0\\.1:\\d+, which answered 401`));
  });

  it('fails at once with a clear message on wrong credentials (no retries)', async () => {
    await front.idle();
    const before = front.log.length;
    const r = await runCli(['list', `oci://${front.host}/redirect/app`, '--creds', `${USER}:wrong-${CANARY}`], { env: { DOCKER_CONFIG: join(work.path, 'none') } });
    results.push(r);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/rejected the credentials from --creds/);
    // The challenge, then one attempt with the credentials.
    await front.idle();
    expect(front.log.length - before).toBe(2);
  });
});
