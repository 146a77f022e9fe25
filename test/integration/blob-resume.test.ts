import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/ref/digest.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository, type RegistryRepository } from '../../src/registry/client.js';
import { closeAllConnections } from '../../src/registry/connection-pool.js';
import { failure } from '../helpers/expect-error.js';
import { fetchUpstream, flipByteAt } from '../helpers/faults.js';
import { useRegistry } from '../helpers/fixtures.js';
import { startProxy, type LoopbackProxy, type ProxyAction, type ProxyRequest } from '../helpers/proxy.js';

/**
 * A blob download that breaks off mid-body is resumed: the real registry behind the fault proxy, which cuts the
 * first download half way (the resumption asks `Range: bytes=N-`), or then ignores Range (the whole blob again),
 * or answers every resumption with no bytes (the download gives up after 3 resumptions in a row without
 * progress). Every reader of blobs goes through openBlob (fetchBlob too); the bytes are still verified.
 */
const registry = useRegistry();
let proxy: LoopbackProxy;
let hook: ((req: ProxyRequest) => ProxyAction | undefined | Promise<ProxyAction | undefined>) | undefined;
const blob = randomBytes(3 * 1024 * 1024 + 17);
const descriptor = { mediaType: 'application/octet-stream', digest: digestOf(blob), size: blob.length };
/** Range header of every blob GET the proxy saw, in order ('' for none). */
let ranges: string[];

beforeAll(async () => {
  proxy = await startProxy({
    target: registry.host,
    onRequest: (req) => {
      if (req.method === 'GET' && req.path.includes('/blobs/sha256:')) ranges.push(String(req.headers.range ?? ''));
      return hook?.(req);
    },
  });
  await open().pushBlob(descriptor, blob);
});

afterAll(async () => {
  await closeAllConnections();
  await proxy?.stop();
});

beforeEach(() => {
  hook = undefined;
  ranges = [];
  proxy.reset();
});

function open(): RegistryRepository {
  return openRegistryRepository(parseRegistryReference(`oci://${proxy?.host ?? registry.host}/resume/app`), { retry: { retries: 1, baseDelayMs: 10 } });
}

const HALF = Math.floor(blob.length / 2);
const isBlobGet = (req: ProxyRequest): boolean => req.method === 'GET' && req.path.includes('/blobs/sha256:');

describe('a blob download cut mid-body', () => {
  it('is resumed with a Range request and verified', async () => {
    hook = (req) => (isBlobGet(req) && req.attempt === 1 ? { kind: 'forward', truncateResponseAt: HALF } : undefined);
    expect((await open().fetchBlob(descriptor, { maxBytes: blob.length })).equals(blob)).toBe(true);
    expect(ranges).toEqual(['', `bytes=${HALF}-`]);
  });

  it('is read again from the start where the registry ignores Range (200), skipping what it had', async () => {
    hook = async (req) => {
      if (!isBlobGet(req)) return undefined;
      if (req.attempt === 1) return { kind: 'forward', truncateResponseAt: HALF };
      const { range: _ignored, ...headers } = req.headers;
      const whole = await fetchUpstream(registry.host, { ...req, headers });
      return { kind: 'respond', status: whole.status, headers: { 'content-type': 'application/octet-stream' }, body: whole.body };
    };
    const stream = await open().openBlob(descriptor);
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(chunk as Buffer);
    expect(Buffer.concat(parts).equals(blob)).toBe(true);
    expect(ranges).toEqual(['', `bytes=${HALF}-`]);
  });

  it('is resumed again and again while each attempt brings bytes', async () => {
    // Every answer, resumptions included, is cut after a quarter of the blob.
    hook = (req) => (isBlobGet(req) ? { kind: 'forward', truncateResponseAt: Math.floor(blob.length / 4) } : undefined);
    expect((await open().fetchBlob(descriptor, { maxBytes: blob.length })).equals(blob)).toBe(true);
    expect(ranges.length).toBe(5);
  });

  it('gives up after 3 resumptions in a row that bring no byte', async () => {
    hook = (req) => {
      if (!isBlobGet(req)) return undefined;
      if (req.attempt === 1) return { kind: 'forward', truncateResponseAt: HALF };
      // A well-formed but empty partial answer: no progress.
      return { kind: 'respond', status: 206, headers: { 'content-range': `bytes ${HALF}-${blob.length - 1}/${blob.length}` } };
    };
    const err = await failure(open().fetchBlob(descriptor, { maxBytes: blob.length }));
    expect(err.code).toBe('NETWORK_ERROR');
    expect(err.message).toContain(`blob resume/app@${descriptor.digest}`);
    expect(ranges).toEqual(['', `bytes=${HALF}-`, `bytes=${HALF}-`, `bytes=${HALF}-`]);
  });

  it('refuses a resumption that answers another range', async () => {
    hook = (req) => {
      if (!isBlobGet(req)) return undefined;
      if (req.attempt === 1) return { kind: 'forward', truncateResponseAt: HALF };
      return { kind: 'respond', status: 206, headers: { 'content-range': `bytes 0-9/${blob.length}` }, body: blob.subarray(0, 10) };
    };
    const err = await failure(open().fetchBlob(descriptor, { maxBytes: blob.length }));
    expect(err.code).toBe('REGISTRY_RESPONSE_INVALID');
  });

  it('still refuses bytes that fail the digest, without resuming', async () => {
    hook = (req) => (isBlobGet(req) ? {
      kind: 'forward',
      mutateBody: flipByteAt(HALF),
    } : undefined);
    const err = await failure(open().fetchBlob(descriptor, { maxBytes: blob.length }));
    expect(err.code).toBe('DIGEST_MISMATCH');
    expect(ranges).toEqual(['']);
  });
});
