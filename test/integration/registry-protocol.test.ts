import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/mediatypes.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository, type RegistryClientOptions, type RegistryRepository } from '../../src/registry/client.js';
import type { RequestLog } from '../../src/registry/http.js';
import { failure } from '../helpers/expect-error.js';

/**
 * Protocol corners that the real registry never produces (retries, Retry-After, redirects to storage, token
 * services, referrers API, paging), on a small fake server.
 */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Fake {
  host: string;
  seen: Seen[];
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const servers: { close(): void; closeAllConnections(): void }[] = [];

afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

async function fake(handler: Handler): Promise<Fake> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function repo(host: string, name = 'app', options: RegistryClientOptions = {}): RegistryRepository {
  return openRegistryRepository(parseRegistryReference(`oci://${host}/${name}`), { retry: { baseDelayMs: 5 }, ...options });
}

const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] }));

function sendManifest(res: ServerResponse, bytes = MANIFEST, digest = digestOf(bytes)): void {
  res.writeHead(200, { 'content-type': MediaType.OciManifest, 'docker-content-digest': digest, 'content-length': bytes.length });
  res.end(bytes);
}

function ociError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ errors: [{ code, message, detail: null }] }));
}

describe('retries', () => {
  it('retries 503 twice, then succeeds', async () => {
    let calls = 0;
    const f = await fake((_req, res) => (++calls <= 2 ? ociError(res, 503, 'UNAVAILABLE', 'busy') : sendManifest(res)));
    const got = await repo(f.host).getManifest('v1');
    expect(got.bytes.equals(MANIFEST)).toBe(true);
    expect(f.seen.length).toBe(3);
  });

  it('waits as long as Retry-After says on 429', async () => {
    let calls = 0;
    const f = await fake((_req, res) => (++calls === 1 ? ociError(res, 429, 'TOOMANYREQUESTS', 'slow down', { 'retry-after': '1' }) : sendManifest(res)));
    const started = Date.now();
    await repo(f.host).getManifest('v1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(f.seen.length).toBe(2);
  });

  it('gives up after the configured retries with the last error', async () => {
    const f = await fake((_req, res) => ociError(res, 503, 'UNAVAILABLE', 'down for maintenance'));
    const err = await failure(repo(f.host, 'app', { retry: { retries: 2, baseDelayMs: 1 } }).getManifest('v1'));
    expect(f.seen.length).toBe(3);
    expect(err.message).toBe(`registry ${f.host} answered 503 UNAVAILABLE for manifest app:v1: down for maintenance`);
  });

  it('never retries other 4xx', async () => {
    const f = await fake((_req, res) => ociError(res, 400, 'MANIFEST_INVALID', 'bad manifest'));
    const err = await failure(repo(f.host).putManifest('v1', MANIFEST, MediaType.OciManifest));
    expect(err.code).toBe('MANIFEST_INVALID');
    expect(err.kind).toBe('registry');
    expect(f.seen.length).toBe(1);
  });

  it('reduces an HTML error page to its status line', async () => {
    const f = await fake((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1>' + 'x'.repeat(100_000) + '</body></html>');
    });
    const err = await failure(repo(f.host, 'app', { retry: { retries: 0 } }).getManifest('v1'));
    expect(err.message).toBe(`registry ${f.host} answered 502 Bad Gateway for manifest app:v1`);
    expect(err.code).toBe('HTTP_502');
  });
});

describe('aborting', () => {
  it('maps a timeout signal to TIMEOUT and an interrupt to INTERRUPTED', async () => {
    const f = await fake(() => { /* never answers */ });
    const timedOut = await failure(repo(f.host, 'app', { signal: AbortSignal.timeout(200) }).getManifest('v1'));
    expect(timedOut.code).toBe('TIMEOUT');

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const interrupted = await failure(repo(f.host).getManifest('v1', { signal: controller.signal }));
    expect(interrupted.code).toBe('INTERRUPTED');
    expect(interrupted.kind).toBe('interrupted');
  });

  it('aborts a backoff wait too', async () => {
    const f = await fake((_req, res) => ociError(res, 503, 'UNAVAILABLE', 'busy', { 'retry-after': '30' }));
    const started = Date.now();
    const err = await failure(repo(f.host, 'app', { signal: AbortSignal.timeout(300) }).getManifest('v1'));
    expect(err.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('redirects and locations', () => {
  it('follows a blob redirect to another origin without the Authorization header', async () => {
    const data = Buffer.from('blob content served by storage');
    const storage = await fake((_req, res) => res.end(data));
    const registry = await fake((req, res) => {
      if (req.headers.authorization === undefined) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
        return;
      }
      res.writeHead(307, { location: `http://${storage.host}/bucket/blob?X-Amz-Signature=secret` }).end();
    });
    const log: RequestLog[] = [];
    const r = repo(registry.host, 'app', { creds: 'user:pass', onRequest: (e) => log.push(e) });
    const got = await r.fetchBlob({ mediaType: 'x', digest: digestOf(data), size: data.length });
    expect(got.equals(data)).toBe(true);
    expect(registry.seen.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('user:pass').toString('base64')}`);
    expect(storage.seen.length).toBe(1);
    expect(storage.seen[0]!.headers.authorization).toBeUndefined();
    const logged = JSON.stringify(log);
    expect(logged).not.toContain('secret');
    expect(logged).not.toContain(Buffer.from('user:pass').toString('base64'));
  });

  it('stops after 5 redirects', async () => {
    const f = await fake((req, res) => res.writeHead(302, { location: `${req.url}x` }).end());
    const err = await failure(repo(f.host).openBlob({ mediaType: 'x', digest: digestOf('a'), size: 1 }));
    expect(err.code).toBe('TOO_MANY_REDIRECTS');
    expect(f.seen.length).toBe(6);
  });

  it('refuses an upload location on another host', async () => {
    const f = await fake((req, res) => {
      if (req.method === 'HEAD') return res.writeHead(404).end();
      res.writeHead(202, { location: 'http://evil.example/upload' }).end();
    });
    const err = await failure(repo(f.host).pushBlob({ mediaType: 'x', digest: digestOf('abc'), size: 3 }, Buffer.from('abc')));
    expect(err.code).toBe('REGISTRY_URL_REFUSED');
    expect(f.seen.every((s) => s.url.startsWith('/v2/'))).toBe(true);
  });

  it('follows a relative upload location with its query', async () => {
    const f = await fake((req, res) => {
      if (req.method === 'HEAD') return res.writeHead(404).end();
      if (req.method === 'POST') return res.writeHead(202, { location: '/v2/app/blobs/uploads/u1?state=s1' }).end();
      res.writeHead(201).end();
    });
    expect(await repo(f.host).pushBlob({ mediaType: 'x', digest: digestOf('abc'), size: 3 }, Buffer.from('abc'))).toBe('uploaded');
    const put = f.seen.at(-1)!;
    expect(put.method).toBe('PUT');
    expect(put.url).toBe(`/v2/app/blobs/uploads/u1?state=s1&digest=${encodeURIComponent(digestOf('abc'))}`);
    expect(put.body).toBe('abc');
  });
});

describe('manifests', () => {
  it('rejects bytes that do not match Docker-Content-Digest', async () => {
    const f = await fake((_req, res) => sendManifest(res, MANIFEST, digestOf('something else')));
    expect((await failure(repo(f.host).getManifest('v1'))).code).toBe('DIGEST_MISMATCH');
  });

  it('rejects a manifest announced larger than 4 MiB before reading it', async () => {
    const f = await fake((_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OciManifest, 'content-length': 5 * 1024 * 1024 });
      res.write('{');
    });
    expect((await failure(repo(f.host).getManifest('v1'))).code).toBe('MANIFEST_TOO_LARGE');
  });

  it('describes a manifest itself when HEAD has no digest header', async () => {
    const f = await fake((req, res) => {
      if (req.method === 'HEAD') return res.writeHead(200, { 'content-type': MediaType.OciManifest }).end();
      res.writeHead(200, { 'content-type': MediaType.OciManifest }).end(MANIFEST);
    });
    expect(await repo(f.host).resolve('v1')).toEqual({ mediaType: MediaType.OciManifest, digest: digestOf(MANIFEST), size: MANIFEST.length });
  });
});

describe('tags and referrers', () => {
  it('follows Link rel="next" pages, relative or absolute', async () => {
    const f = await fake((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const last = url.searchParams.get('last');
      res.setHeader('content-type', 'application/json');
      if (last === null) {
        res.setHeader('link', '</v2/app/tags/list?n=2&last=b>; rel="next"');
        return res.end(JSON.stringify({ name: 'app', tags: ['a', 'b'] }));
      }
      if (last === 'b') {
        res.setHeader('link', `<http://${req.headers.host}/v2/app/tags/list?n=2&last=d>; rel="next"`);
        return res.end(JSON.stringify({ name: 'app', tags: ['c', 'd'] }));
      }
      res.end(JSON.stringify({ name: 'app', tags: ['e'] }));
    });
    expect(await repo(f.host).listTags({ pageSize: 2 })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(f.seen.map((s) => s.url)).toEqual(['/v2/app/tags/list?n=2', '/v2/app/tags/list?n=2&last=b', '/v2/app/tags/list?n=2&last=d']);
  });

  it('refuses a next page on another host, sending it nothing', async () => {
    const other = await fake((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'app', tags: ['z'] }));
    });
    const f = await fake((req, res) => {
      if (req.headers.authorization === undefined) return res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
      res.writeHead(200, { 'content-type': 'application/json', link: `<http://${other.host}/v2/app/tags/list?last=y>; rel="next"` });
      res.end(JSON.stringify({ name: 'app', tags: ['y'] }));
    });
    const err = await failure(repo(f.host, 'app', { creds: 'user:pass' }).listTags());
    expect(err.code).toBe('REGISTRY_URL_REFUSED');
    expect(other.seen).toEqual([]);
  });

  it('uses the referrers API when it answers with an index, and filters by artifactType', async () => {
    const subject = digestOf('subject');
    const a = { mediaType: MediaType.OciManifest, digest: digestOf('a'), size: 1, artifactType: 'application/a' };
    const b = { mediaType: MediaType.OciManifest, digest: digestOf('b'), size: 1, artifactType: 'application/b' };
    const f = await fake((_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OciIndex });
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [a, b] }));
    });
    const r = repo(f.host);
    expect(await r.referrers(subject)).toEqual([a, b]);
    // A server that ignores the filter is filtered here.
    expect(await r.referrers(subject, { artifactType: 'application/b' })).toEqual([b]);
    expect(f.seen.map((s) => s.url)).toEqual([`/v2/app/referrers/${subject}`, `/v2/app/referrers/${subject}?artifactType=application%2Fb`]);
  });
  it('drops malformed referrer entries instead of failing on them, on the API and on the fallback tag', async () => {
    const subject = digestOf('subject');
    const a = { mediaType: MediaType.OciManifest, digest: digestOf('a'), size: 1, artifactType: 'application/a' };
    const listing = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [null, 7, { digest: 1 }, a] }));
    const api = await fake((_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OciIndex });
      res.end(listing);
    });
    expect(await repo(api.host).referrers(subject, { artifactType: 'application/a' })).toEqual([a]);

    const tagged = await fake((req, res) => {
      if (req.url!.includes('/referrers/')) return ociError(res, 404, 'NOT_FOUND', 'no referrers API');
      res.writeHead(200, { 'content-type': MediaType.OciIndex, 'docker-content-digest': digestOf(listing) });
      res.end(listing);
    });
    expect(await repo(tagged.host).referrers(subject)).toEqual([a]);
    expect(tagged.seen[1]!.url).toBe(`/v2/app/manifests/${subject.replace(':', '-')}`);
  });
});

describe('bearer tokens', () => {
  function tokenRegistry(options: { token?: string } = {}): Promise<Fake> {
    const issued = options.token ?? 'tok-1';
    return fake((req, res, body) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/token') {
        const basic = `Basic ${Buffer.from('user:pass').toString('base64')}`;
        const refreshOk = req.method === 'POST' && new URLSearchParams(body).get('refresh_token') === 'refresh-me';
        if (req.headers.authorization !== basic && !refreshOk) return ociError(res, 401, 'UNAUTHORIZED', 'bad credentials');
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(req.method === 'POST' ? { access_token: issued, expires_in: 300 } : { token: issued, expires_in: 300 }));
      }
      if (req.headers.authorization !== `Bearer ${issued}`) {
        const scope = req.method === 'GET' || req.method === 'HEAD' ? 'repository:app:pull' : 'repository:app:pull,push';
        return ociError(res, 401, 'UNAUTHORIZED', 'authentication required', {
          'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="fake",scope="${scope}"`,
        });
      }
      if (req.method === 'HEAD') return res.writeHead(404).end();
      sendManifest(res);
    });
  }

  it('refuses a token answer that is not a JSON object with a token, as AUTH_TOKEN_INVALID', async () => {
    for (const [answer, message] of [['null', 'unreadable answer'], ['<html>', 'unreadable answer'], ['{"token":""}', 'sent no token']] as const) {
      const f = await fake((req, res) => {
        if (req.url!.startsWith('/token')) return res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
        ociError(res, 401, 'UNAUTHORIZED', 'authentication required', {
          'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="fake"`,
        });
      });
      const err = await failure(repo(f.host, 'app', { creds: 'user:pass' }).getManifest('v1'));
      expect(err.code, answer).toBe('AUTH_TOKEN_INVALID');
      expect(err.message).toContain(message);
    }
  });

  it('takes the challenge from the first request, fetches one token, and reuses it', async () => {
    const f = await tokenRegistry();
    const r = repo(f.host, 'app', { creds: 'user:pass' });
    await r.getManifest('v1');
    await r.getManifest('v2');
    expect(await r.resolve('v3')).toBeUndefined(); // same pull scope: no new token
    expect(f.seen.map((s) => `${s.method} ${s.url.split('?')[0]}`)).toEqual([
      'GET /v2/app/manifests/v1', 'GET /token', 'GET /v2/app/manifests/v1', 'GET /v2/app/manifests/v2', 'HEAD /v2/app/manifests/v3',
    ]);
    const tokenUrl = new URL(f.seen[1]!.url, 'http://x');
    expect(tokenUrl.searchParams.get('service')).toBe('fake');
    expect(tokenUrl.searchParams.getAll('scope')).toEqual(['repository:app:pull']);
  });

  it('asks for pull,push once for a push and uses that token for reads too', async () => {
    const f = await tokenRegistry();
    const r = repo(f.host, 'app', { creds: 'user:pass' });
    expect(await r.hasBlob(digestOf('x'))).toBe(false); // learns the challenge, pull token
    await failure(r.pushBlob({ mediaType: 'x', digest: digestOf('x'), size: 1 }, Buffer.from('x'))); // fake has no uploads
    const tokens = f.seen.filter((s) => s.url.startsWith('/token'));
    expect(tokens.map((s) => new URL(s.url, 'http://x').searchParams.getAll('scope'))).toEqual([['repository:app:pull'], ['repository:app:pull,push']]);
    await r.getManifest('v1');
    expect(f.seen.filter((s) => s.url.startsWith('/token')).length).toBe(2);
  });

  it('fails with UNAUTHORIZED when the token service refuses the credentials, without leaking them', async () => {
    const f = await tokenRegistry();
    const err = await failure(repo(f.host, 'app', { creds: 'user:hunter2' }).getManifest('v1'));
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.kind).toBe('auth');
    expect(`${err.message} ${err.hint}`).not.toContain('hunter2');
    expect(f.seen.length).toBe(2);
  });

  it('exchanges a Docker identity token with the OAuth2 refresh_token grant', async () => {
    const { writeFileSync } = await import('node:fs');
    const f = await tokenRegistry();
    const dir = mkdtempSync(join(tmpdir(), 'docker-id-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [f.host]: { auth: Buffer.from('<token>:').toString('base64'), identitytoken: 'refresh-me' } } }));
    await repo(f.host, 'app', { dockerConfigDir: dir }).getManifest('v1');
    const post = f.seen.find((s) => s.url === '/token')!;
    expect(post.method).toBe('POST');
    const form = new URLSearchParams(post.body);
    expect(form.get('grant_type')).toBe('refresh_token');
    expect(form.get('scope')).toBe('repository:app:pull');
    expect(form.get('service')).toBe('fake');
  });

  it('sends a bare --creds token as the bearer token in answer to the challenge, without a token service', async () => {
    const f = await tokenRegistry({ token: 'pat-123' });
    await repo(f.host, 'app', { creds: 'pat-123' }).getManifest('v1');
    // Nothing goes out before the host asks; then the token itself, not a token-service exchange.
    expect(f.seen.map((r) => r.headers.authorization)).toEqual([undefined, 'Bearer pat-123']);
    expect(f.seen.some((r) => r.url?.startsWith('/token'))).toBe(false);
  });
});

describe('TLS on loopback', () => {
  async function httpsFake(): Promise<{ host: string; caFile: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'pipe' });
    const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => sendManifest(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, caFile: join(dir, 'cert.pem') };
  }

  it('refuses an unknown certificate (no fallback to HTTP), trusts it with caFile or --insecure', async () => {
    const { host, caFile } = await httpsFake();
    const err = await failure(repo(host).getManifest('v1'));
    expect(err.code).toBe('TLS_ERROR');
    expect(err.hint).toMatch(/--ca-file|--insecure/);

    const log: RequestLog[] = [];
    expect((await repo(host, 'app', { caFile, onRequest: (e) => log.push(e) }).getManifest('v1')).digest).toBe(digestOf(MANIFEST));
    expect(log.map((e) => e.url)).toEqual([`https://${host}/v2/app/manifests/v1`]);
    expect((await repo(host, 'app', { insecure: true }).getManifest('v1')).digest).toBe(digestOf(MANIFEST));
  });
});

describe('streamed uploads', () => {
  it('reports a failing source as SOURCE_READ_FAILED and stops it', async () => {
    const f = await fake((req, res) => {
      if (req.method === 'POST') return res.writeHead(202, { location: '/v2/app/blobs/uploads/u1' }).end();
      res.writeHead(202, { location: '/v2/app/blobs/uploads/u1' }).end();
    });
    const { Readable } = await import('node:stream');
    const source = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    const err = await failure(repo(f.host).pushBlobStream('x', source));
    expect(err.code).toBe('SOURCE_READ_FAILED');
    expect(err.message).toContain('disk on fire');
    expect(source.destroyed).toBe(true);
    expect(f.seen.some((s) => s.method === 'PUT')).toBe(false); // nothing was committed
  });
});

describe('hostile tag listings', () => {
  function tagsPage(res: ServerResponse, tags: unknown, link?: string): void {
    res.writeHead(200, { 'content-type': 'application/json', ...(link === undefined ? {} : { link }) });
    res.end(JSON.stringify({ name: 'app', tags }));
  }

  it('reads a page of 150,000 tags (push(...page) overflowed the call stack past ~120k)', async () => {
    const tags = Array.from({ length: 150_000 }, (_, i) => `t${i}`);
    const f = await fake((_req, res) => tagsPage(res, tags));
    expect(await repo(f.host).listTags()).toEqual(tags);
  });

  it('refuses a Link back to a page already read, after reading each page once', async () => {
    const f = await fake((req, res) => {
      const last = new URL(req.url!, 'http://x').searchParams.get('last');
      if (last === null) return tagsPage(res, ['a'], '</v2/app/tags/list?n=1&last=a>; rel="next"');
      tagsPage(res, ['b'], '</v2/app/tags/list?n=1>; rel="next"');
    });
    const err = await failure(repo(f.host).listTags({ pageSize: 1 }));
    expect(err.code).toBe('REGISTRY_RESPONSE_INVALID');
    expect(err.message).toBe(`registry ${f.host} paged tags of app back to a page already read (http://${f.host}/v2/app/tags/list?n=1)`);
    expect(f.seen).toHaveLength(2);
  });

  it('refuses a tags field that is not a list of names instead of spreading it', async () => {
    for (const tags of ['abc', { 0: 'a' }, [1, 2], [['a']]]) {
      const f = await fake((_req, res) => tagsPage(res, tags));
      const err = await failure(repo(f.host).listTags());
      expect(err.code, JSON.stringify(tags)).toBe('REGISTRY_RESPONSE_INVALID');
      expect(err.message).toContain('with a tags field that is not a list of names');
    }
  });

  it('stops at 1,000,000 tags however the registry keeps paging', async () => {
    const f = await fake((req, res) => {
      const page = Number(new URL(req.url!, 'http://x').searchParams.get('page') ?? 0);
      tagsPage(res, Array.from({ length: 400_000 }, (_, i) => `p${page}-${i}`), `</v2/app/tags/list?page=${page + 1}>; rel="next"`);
    });
    const err = await failure(repo(f.host).listTags());
    expect(err.code).toBe('TOO_MANY_TAGS');
    expect(err.message).toBe(`registry ${f.host} listed more than 1000000 tags of app; refused`);
    expect(f.seen).toHaveLength(3);
  });
});
