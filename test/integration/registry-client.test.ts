import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciError } from '../../src/errors.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository, type RegistryClientOptions, type RegistryRepository } from '../../src/registry/client.js';
import type { RequestLog } from '../../src/registry/http.js';
import { createRegistryCache } from '../../src/registry/registry-cache.js';
import { startProxy } from '../helpers/proxy.js';
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { failure } from '../helpers/expect-error.js';

const USER = 'alice';
const PASSWORD = 'pw-canary-7f3a91';

let plain: TestRegistry;
let secured: TestRegistry;

beforeAll(async () => {
  [plain, secured] = await Promise.all([startRegistry(), startRegistry({ htpasswd: { username: USER, password: PASSWORD } })]);
});

afterAll(async () => {
  await Promise.all([plain?.stop(), secured?.stop()]);
});

/** One registry cache for the file, as one run has: the request counts below leave out the scheme probe made once. */
const cache = createRegistryCache();

function repo(host: string, name: string, options: RegistryClientOptions = {}): RegistryRepository {
  return openRegistryRepository(parseRegistryReference(`oci://${host}/${name}`), { retry: { baseDelayMs: 10 }, cache, ...options });
}

function blob(content: Buffer | string, mediaType: string = MediaType.OciLayerTarGzip): { desc: Descriptor; bytes: Buffer } {
  const bytes = Buffer.from(content);
  return { bytes, desc: { mediaType, digest: digestOf(bytes), size: bytes.length } };
}

/** Manifest bytes with odd formatting, so re-encoding would change the digest. */
function manifestBytes(config: Descriptor, layers: Descriptor[], extra: Record<string, unknown> = {}): Buffer {
  const doc = { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers, ...extra };
  return Buffer.from(`${JSON.stringify(doc, null, 3)}\n\n`);
}

async function pushArtifact(r: RegistryRepository, tag: string, seed: string): Promise<{ digest: string; bytes: Buffer; layer: ReturnType<typeof blob> }> {
  const config = blob('{}', MediaType.FluxConfig);
  const layer = blob(`layer ${seed}`);
  await r.pushBlob(config.desc, config.bytes);
  await r.pushBlob(layer.desc, layer.bytes);
  const bytes = manifestBytes(config.desc, [layer.desc], { annotations: { seed } });
  const digest = await r.putManifest(tag, bytes, MediaType.OciManifest);
  return { digest, bytes, layer };
}

async function readStream(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

describe('registry client against CNCF Distribution', () => {
  it('falls back from HTTPS to plain HTTP on a loopback registry and remembers it', async () => {
    const log: RequestLog[] = [];
    const r = repo(plain.host, 'scheme/probe', { onRequest: (e) => log.push(e) });
    expect(await r.resolve('nothing')).toBeUndefined();
    expect(await r.resolve('nothing-either')).toBeUndefined();
    expect(log[0]!.url.startsWith(`https://${plain.host}/`)).toBe(true);
    expect(log[0]!.error).toBeDefined();
    expect(log.slice(1).map((e) => [e.url.split('/')[0], e.status])).toEqual([['http:', 404], ['http:', 404]]);
  });

  it('stores manifests byte for byte and finds them by tag and digest', async () => {
    const r = repo(plain.host, 'manifests/app');
    const { digest, bytes } = await pushArtifact(r, 'v1', 'one');
    expect(digest).toBe(digestOf(bytes));

    const byTag = await r.getManifest('v1');
    expect(byTag.bytes.equals(bytes)).toBe(true);
    expect(byTag.digest).toBe(digest);
    expect(byTag.mediaType).toBe(MediaType.OciManifest);
    const byDigest = await r.getManifest(digest);
    expect(byDigest.bytes.equals(bytes)).toBe(true);

    expect(await r.resolve('v1')).toEqual({ mediaType: MediaType.OciManifest, digest, size: bytes.length });
    expect(await r.resolve(digest)).toEqual({ mediaType: MediaType.OciManifest, digest, size: bytes.length });
    expect(await r.resolve('v404')).toBeUndefined();
  });

  it('reports an absent manifest with the registry code and one clear line', async () => {
    const r = repo(plain.host, 'manifests/app');
    await pushArtifact(r, 'exists', 'x');
    const err = await failure(r.getManifest('missing'));
    expect(err.code).toBe('MANIFEST_UNKNOWN');
    expect(err.kind).toBe('registry');
    expect(err.message).toBe(`registry ${plain.host} answered 404 MANIFEST_UNKNOWN for manifest manifests/app:missing: manifest unknown`);
    const none = await failure(repo(plain.host, 'never/pushed').getManifest('v1'));
    expect(none.code).toBe('MANIFEST_UNKNOWN');
  });

  it('keeps every error the registry lists: one per missing blob of a manifest', async () => {
    const r = repo(plain.host, 'manifests/missing-blobs');
    const config = blob('{}', MediaType.FluxConfig);
    await r.pushBlob(config.desc, config.bytes);
    const absent = [blob('never pushed 1').desc, blob('never pushed 2').desc];
    const err = await failure(r.putManifest('v1', manifestBytes(config.desc, absent), MediaType.OciManifest));
    expect(err.code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(err.message).toMatch(/answered 400 MANIFEST_BLOB_UNKNOWN for manifest manifests\/missing-blobs:v1: .* \(and 1 more error, listed with --debug\)$/);
    const listed = (err.details as { errors: Array<{ code?: string; detail?: unknown }> }).errors;
    expect(listed.map((e) => e.code)).toEqual(['MANIFEST_BLOB_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN']);
    expect(JSON.stringify(listed)).toContain(absent[0]!.digest);
    expect(JSON.stringify(listed)).toContain(absent[1]!.digest);
  });

  it('deletes a manifest by digest', async () => {
    const r = repo(plain.host, 'manifests/deleted');
    const { digest } = await pushArtifact(r, 'gone', 'del');
    await r.deleteManifest(digest);
    expect(await r.resolve(digest)).toBeUndefined();
    expect((await failure(r.deleteManifest(digest))).code).toBe('MANIFEST_UNKNOWN');
  });

  it('pushes a blob once and reports it as existing afterwards', async () => {
    const r = repo(plain.host, 'blobs/app');
    const b = blob(randomBytes(1000));
    expect(await r.hasBlob(b.desc.digest)).toBe(false);
    expect(await r.pushBlob(b.desc, b.bytes)).toBe('uploaded');
    expect(await r.pushBlob(b.desc, b.bytes)).toBe('exists');
    expect(await r.hasBlob(b.desc.digest)).toBe(true);
    expect((await r.fetchBlob(b.desc)).equals(b.bytes)).toBe(true);
    const fromOpen = blob(randomBytes(3000));
    expect(await r.pushBlob(fromOpen.desc, { size: fromOpen.bytes.length, open: () => Readable.from([fromOpen.bytes]) })).toBe('uploaded');
    expect((await r.fetchBlob(fromOpen.desc)).equals(fromOpen.bytes)).toBe(true);
  });

  it('refuses to push bytes that do not match their descriptor', async () => {
    const r = repo(plain.host, 'blobs/app');
    const b = blob('real content');
    const err = await failure(r.pushBlob({ ...b.desc, digest: digestOf('other') }, b.bytes));
    expect(err.code).toBe('DIGEST_MISMATCH');
  });

  it('streams 40 MiB in 5 MiB chunks with an unknown digest, then reads it back verified', async () => {
    const r = repo(plain.host, 'blobs/big', { chunkSize: 5 * 1024 * 1024 });
    const data = randomBytes(40 * 1024 * 1024 + 12345);
    const pieces = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    const progress: number[] = [];
    const desc = await r.pushBlobStream(MediaType.OciLayerTarGzip, Readable.from(pieces), { onProgress: (e) => progress.push(e.bytes) });
    expect(desc).toEqual({ mediaType: MediaType.OciLayerTarGzip, digest: digestOf(data), size: data.length });
    expect(progress.at(-1)).toBe(data.length);
    expect(progress.length).toBeGreaterThanOrEqual(8);

    const read = await readStream(await r.openBlob(desc));
    expect(read.equals(data)).toBe(true);
  });

  it('pushes a large blob of known digest in chunks', async () => {
    const r = repo(plain.host, 'blobs/known', { chunkSize: 1024 * 1024 });
    const b = blob(randomBytes(3 * 1024 * 1024 + 7));
    const log: string[] = [];
    const logged = repo(plain.host, 'blobs/known', { chunkSize: 1024 * 1024, onRequest: (e) => log.push(e.method) });
    expect(await logged.pushBlob(b.desc, { size: b.desc.size, open: () => Readable.from([b.bytes]) })).toBe('uploaded');
    expect(log).toEqual(['HEAD', 'POST', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
    expect((await readStream(await r.openBlob(b.desc))).equals(b.bytes)).toBe(true);
  });

  it('lists all tags', async () => {
    const r = repo(plain.host, 'tags/many');
    const { bytes } = await pushArtifact(r, 'seed', 'tags');
    const tags = Array.from({ length: 30 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const tag of tags) await r.putManifest(tag, bytes, MediaType.OciManifest);
    // Distribution 2.8.2 ignores `n` and answers with all tags; paging itself is tested on the fake server.
    const listed = await repo(plain.host, 'tags/many').listTags({ pageSize: 7 });
    expect(listed.sort()).toEqual([...tags, 'seed'].sort());
    expect(await repo(plain.host, 'tags/none').listTags().catch((e: OciError) => e.code)).toBe('NAME_UNKNOWN');
  });

  it('mounts a blob from another repository, and says no when the source lacks it', async () => {
    const source = repo(plain.host, 'mount/source');
    const target = repo(plain.host, 'mount/target');
    const b = blob(randomBytes(500));
    await source.pushBlob(b.desc, b.bytes);
    expect(await target.mountBlob(b.desc, 'mount/source')).toBe(true);
    expect(await target.hasBlob(b.desc.digest)).toBe(true);
    const absent = blob('never pushed anywhere');
    expect(await target.mountBlob(absent.desc, 'mount/source')).toBe(false);
    expect(await target.hasBlob(absent.desc.digest)).toBe(false);
  });

  it('finds referrers through the fallback tag (distribution 2.8 has no referrers API)', async () => {
    const log: RequestLog[] = [];
    const r = repo(plain.host, 'refs/app', { onRequest: (e) => log.push(e) });
    const subject = await pushArtifact(r, 'v1', 'subject');
    expect(await r.referrers(subject.digest)).toEqual([]);

    // The index may only name manifests the registry holds.
    const referrer = async (artifactType: string, tag: string): Promise<Descriptor> => {
      const empty = blob('{}', MediaType.OciEmpty);
      await r.pushBlob(empty.desc, empty.bytes);
      const bytes = manifestBytes(empty.desc, [empty.desc], { artifactType, subject: { mediaType: MediaType.OciManifest, digest: subject.digest, size: subject.bytes.length } });
      const digest = await r.putManifest(tag, bytes, MediaType.OciManifest);
      return { mediaType: MediaType.OciManifest, digest, size: bytes.length, artifactType };
    };
    const sig = await referrer('application/vnd.dev.cosign.artifact.sig.v1+json', 'sig');
    const sbom = await referrer('application/spdx+json', 'sbom');
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [sig, sbom] }));
    await r.putManifest(subject.digest.replace(':', '-'), index, MediaType.OciIndex);

    expect(await r.referrers(subject.digest)).toEqual([sig, sbom]);
    expect(await r.referrers(subject.digest, { artifactType: 'application/spdx+json' })).toEqual([sbom]);
    // The API was probed once for this repository, then only the fallback tag was asked.
    expect(log.filter((e) => e.url.includes('/referrers/')).length).toBe(1);
  });

  it('keeps to the request budgets: push 7, unchanged re-push 3, pull 2', async () => {
    const log: RequestLog[] = [];
    const r = repo(plain.host, 'budget/app', { onRequest: (e) => log.push(e) });
    await r.resolve('warm-up'); // learn the scheme first, so only registry requests are counted
    log.length = 0;
    const { digest, layer } = await pushArtifact(r, 'v1', 'budget');
    expect(log.map((e) => e.method)).toEqual(['HEAD', 'POST', 'PUT', 'HEAD', 'POST', 'PUT', 'PUT']);
    log.length = 0;
    await pushArtifact(r, 'v1', 'budget');
    expect(log.map((e) => e.method)).toEqual(['HEAD', 'HEAD', 'PUT']);
    log.length = 0;
    const manifest = await r.getManifest('v1');
    expect(manifest.digest).toBe(digest);
    expect((await readStream(await r.openBlob(layer.desc))).equals(layer.bytes)).toBe(true);
    expect(log.map((e) => e.method)).toEqual(['GET', 'GET']);
  });
});

describe('credentials on an htpasswd registry', () => {
  it('works with the right --creds', async () => {
    const r = repo(secured.host, 'auth/app', { creds: `${USER}:${PASSWORD}` });
    const { digest } = await pushArtifact(r, 'v1', 'auth');
    expect((await r.getManifest('v1')).digest).toBe(digest);
  });

  it('fails at once with a clear auth error on a wrong password, never showing it', async () => {
    const wrong = 'wrong-secret-42';
    const log: RequestLog[] = [];
    const r = repo(secured.host, 'auth/app', { creds: `${USER}:${wrong}`, onRequest: (e) => log.push(e) });
    const err = await failure(r.getManifest('v1'));
    expect(err.kind).toBe('auth');
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toContain(secured.host);
    expect(err.hint).toMatch(/--creds|docker login/);
    const everything = JSON.stringify([err.message, err.hint, log]);
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(Buffer.from(`${USER}:${wrong}`).toString('base64'));
    // No retry storm: at most the anonymous attempt and one with credentials.
    expect(log.filter((e) => e.status !== undefined).length).toBeLessThanOrEqual(2);
  });

  it('asks for credentials when none are given', async () => {
    const r = repo(secured.host, 'auth/app', { dockerConfigDir: mkdtempSync(join(tmpdir(), 'no-docker-')) });
    const err = await failure(r.listTags());
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('requires authentication');
  });

  it('reads auths from a Docker config.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'docker-config-'));
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [`http://${secured.host}`]: { auth } } }));
    const r = repo(secured.host, 'auth/config', { dockerConfigDir: dir });
    const b = blob('via docker config');
    expect(await r.pushBlob(b.desc, b.bytes)).toBe('uploaded');
    expect(await r.hasBlob(b.desc.digest)).toBe(true);
  });
});

describe('failures', () => {
  it('names an unreachable registry', async () => {
    const port = await freePort();
    const err = await failure(repo(`127.0.0.1:${port}`, 'x/y').getManifest('v1'));
    expect(err.code).toBe('REGISTRY_UNREACHABLE');
    expect(err.message).toContain(`127.0.0.1:${port}`);
  });

  it('detects a corrupted blob while streaming it', async () => {
    const r = repo(plain.host, 'corrupt/app');
    const b = blob(randomBytes(100_000));
    await r.pushBlob(b.desc, b.bytes);
    // The blob's last byte is flipped, so only the digest check at the end of the stream can notice.
    const flipLastByte = (chunk: Buffer, offset: number): Buffer => {
      if (offset + chunk.length !== b.desc.size) return chunk;
      const copy = Buffer.from(chunk);
      copy[copy.length - 1]! ^= 0xff;
      return copy;
    };
    const proxy = await startProxy({
      target: plain.host,
      onRequest: (req) => (req.method === 'GET' && req.path.includes('/blobs/') ? { kind: 'forward', mutateBody: flipLastByte } : undefined),
    });
    try {
      const stream = await repo(proxy.host, 'corrupt/app').openBlob(b.desc);
      const err = await failure(readStream(stream));
      expect(err.code).toBe('DIGEST_MISMATCH');
      expect((await failure(repo(proxy.host, 'corrupt/app').fetchBlob(b.desc))).code).toBe('DIGEST_MISMATCH');
    } finally {
      await proxy.stop();
    }
  });

  it('resumes a chunked upload after a failed PATCH, from the offset the registry reports', async () => {
    let patches = 0;
    const proxy = await startProxy({
      target: plain.host,
      // The second PATCH never reaches the registry.
      onRequest: (req) => (req.method === 'PATCH' && ++patches === 2 ? { kind: 'respond', status: 503 } : undefined),
    });
    try {
      const r = repo(proxy.host, 'resume/app', { chunkSize: 1024 * 1024 });
      const data = randomBytes(4 * 1024 * 1024 + 99);
      const desc = await r.pushBlobStream(MediaType.OciLayerTarGzip, Readable.from([data]));
      expect(desc.digest).toBe(digestOf(data));
      await proxy.idle();
      expect(proxy.log.filter((r) => r.method === 'GET' && r.path.startsWith('/v2/resume/app/blobs/uploads/')).length).toBe(1);
      expect((await readStream(await repo(plain.host, 'resume/app').openBlob(desc))).equals(data)).toBe(true);
    } finally {
      await proxy.stop();
    }
  });

  it('starts a replayable upload over when the registry lost the session state, and says so for a stream', async () => {
    let patches = 0;
    const proxy = await startProxy({
      target: plain.host,
      // The second PATCH is stored, but its answer is lost: distribution then refuses the session.
      onRequest: (req) => (req.method === 'PATCH' && ++patches === 2 ? { kind: 'forward', status: 502 } : undefined),
    });
    try {
      const r = repo(proxy.host, 'restart/app', { chunkSize: 1024 * 1024 });
      const data = randomBytes(2 * 1024 * 1024 + 5);
      const streamed = await failure(r.pushBlobStream(MediaType.OciLayerTarGzip, Readable.from([data])));
      expect(streamed.code).toBe('UPLOAD_RESUME_FAILED');

      patches = 0;
      const b = blob(randomBytes(3 * 1024 * 1024 + 5));
      expect(await r.pushBlob(b.desc, { size: b.desc.size, open: () => Readable.from([b.bytes]) })).toBe('uploaded');
      await proxy.idle();
      expect(proxy.log.filter((r) => r.method === 'POST').length).toBe(3);
      expect((await readStream(await repo(plain.host, 'restart/app').openBlob(b.desc))).equals(b.bytes)).toBe(true);
    } finally {
      await proxy.stop();
    }
  });
});
