import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/mediatypes.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { closeAllConnections } from '../../src/registry/connection-pool.js';
import { openRegistryRepository, type RegistryRepository } from '../../src/registry/client.js';
import { tempDir } from '../helpers/cli.js';
import { failure } from '../helpers/expect-error.js';
import { createCa, issueLeaf } from '../helpers/pki.js';
import { startProxy, type LoopbackProxy } from '../helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/**
 * URLs the registry hands out (`Link` of a tag listing, `Location` of an upload or of a mount answered with an
 * ordinary upload) carry the registry's credentials, so they must stay on the registry: the real TLS registry
 * with htpasswd, behind an HTTPS front that rewrites those headers to plain HTTP on the same host and port, or to
 * another host. Plain HTTP arriving at the front's TLS port is recorded (with its headers), as is anything
 * reaching the other host.
 */
const USER = 'handed';
const CANARY = 'canary-handed-out-pw-51c2e7a0';

let registry: TestRegistry;
let front: LoopbackProxy;
let other: { host: string; hits: IncomingHttpHeaders[]; stop(): Promise<void> };
let work: { path: string; remove(): Promise<void> };
let frontCa: string;
/** Rewrites the registry's answers; set per test. */
let rewrite: ((method: string, path: string, headers: IncomingHttpHeaders) => void) | undefined;

beforeAll(async () => {
  [registry, work] = await Promise.all([startRegistry({ tls: {}, htpasswd: { username: USER, password: CANARY } }), tempDir('handed-out-')]);
  const ca = createCa(work.path, 'front CA');
  const leaf = issueLeaf(ca, 'front', 'server');
  frontCa = ca.certFile;
  front = await startProxy({
    target: registry.host,
    tls: { certFile: leaf.certFile, keyFile: leaf.keyFile, upstreamCaFile: registry.tls!.caFile },
    onRequest: (req) => ({ kind: 'forward', rewriteHeaders: (headers) => rewrite?.(req.method, req.path, headers) }),
  });
  const hits: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    hits.push(req.headers);
    res.writeHead(404, { 'content-length': '0' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  other = {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  // Three tags to page through, pushed without any rewriting.
  const repo = open('handed/app');
  const config = Buffer.from('{}');
  const configDesc = { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(config), size: config.length };
  await repo.pushBlob(configDesc, config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, artifactType: 'application/x-test', config: configDesc, layers: [configDesc] }));
  for (const tag of ['t1', 't2', 't3']) await repo.putManifest(tag, manifest, MediaType.OciManifest);
}, 60_000);

afterAll(async () => {
  await closeAllConnections();
  await Promise.all([front?.stop(), other?.stop(), registry?.stop()]);
  await work?.remove();
});

beforeEach(() => {
  rewrite = undefined;
  front.plaintext.length = 0;
  front.reset();
  other.hits.length = 0;
});

function open(name: string): RegistryRepository {
  return openRegistryRepository(parseRegistryReference(`oci://${front.host}/${name}`), {
    creds: `${USER}:${CANARY}`, caFile: frontCa, retry: { retries: 0 }, dockerConfigDir: work.path,
  });
}

/** Replace scheme and host of a `Location`. */
function retarget(value: string | string[] | undefined, base: string): string {
  return String(value).replace(/^(?:https?:\/\/[^/]+)?\//, `${base}/`);
}

/**
 * The registry (Distribution 2.8) sends the whole tag list in one page, so the front adds the `Link` to a next page
 * to the first answer, as a paging registry would, with the given origin.
 */
function linkFirstPageTo(origin: string): void {
  rewrite = (method, path, headers) => {
    if (method === 'GET' && path.includes('/tags/list') && !path.includes('last=')) {
      headers.link = `<${origin}/v2/handed/app/tags/list?n=1&last=t1>; rel="next"`;
    }
  };
}

/** Nothing was sent in plain HTTP to the registry's port, and nothing at all to the other host. */
function expectNothingLeaked(): void {
  expect(front.plaintext).toEqual([]);
  expect(other.hits).toEqual([]);
}

describe('a tag listing whose Link leaves the registry', () => {
  it('follows a Link that stays on the registry (same scheme, host and port)', async () => {
    linkFirstPageTo(`https://${front.host}`);
    const tags = await open('handed/app').listTags({ pageSize: 1 });
    // Both pages hold the whole list (the registry ignores n and last).
    expect(tags.sort()).toEqual(['t1', 't1', 't2', 't2', 't3', 't3']);
    expect(front.log.filter((r) => r.path.includes('last=t1') && r.status === 200)).toHaveLength(1);
    expectNothingLeaked();
  });

  it('refuses a Link to plain HTTP on the same host and port', async () => {
    linkFirstPageTo(`http://${front.host}`);
    const err = await failure(open('handed/app').listTags({ pageSize: 1 }));
    expect(err.code).toBe('REGISTRY_URL_REFUSED');
    expect(err.message).toContain(`http://${front.host}`);
    expectNothingLeaked();
  });

  it('refuses a Link to another host', async () => {
    linkFirstPageTo(`http://${other.host}`);
    const err = await failure(open('handed/app').listTags({ pageSize: 1 }));
    expect(err.code).toBe('REGISTRY_URL_REFUSED');
    expectNothingLeaked();
  });
});

describe('an upload or mount Location that leaves the registry', () => {
  it('refuses an upload Location to plain HTTP', async () => {
    rewrite = (method, _p, headers) => {
      if (method === 'POST' && headers.location !== undefined) headers.location = retarget(headers.location, `http://${front.host}`);
    };
    const bytes = Buffer.from('upload location downgrade');
    const err = await failure(open('handed/upload').pushBlob({ mediaType: 'application/octet-stream', digest: digestOf(bytes), size: bytes.length }, bytes));
    expect(err.code).toBe('REGISTRY_URL_REFUSED');
    expectNothingLeaked();
  });

  it('refuses the Location of a mount answered with an ordinary upload (202), sending nothing there', async () => {
    rewrite = (method, path, headers) => {
      if (method === 'POST' && path.includes('mount=') && headers.location !== undefined) headers.location = retarget(headers.location, `http://${front.host}`);
    };
    // The source repository does not hold this blob: the registry opens an upload (202) instead of mounting.
    const bytes = Buffer.from('never pushed anywhere');
    const err = await failure(open('handed/mount').mountBlob({ mediaType: 'application/octet-stream', digest: digestOf(bytes), size: bytes.length }, 'handed/app'));
    expect(err.code).toBe('REGISTRY_URL_REFUSED');
    expectNothingLeaked();
  });
});
