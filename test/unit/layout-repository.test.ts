import { mkdtemp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLayoutRepository, type LayoutRepository } from '../../src/layout/repository.js';
import { MAX_MANIFEST_BYTES, MediaType } from '../../src/oci/mediatypes.js';
import type { Descriptor, TransferProgress } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';

let dir: string;
let repo: LayoutRepository;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'layout-repo-'));
  repo = await openLayoutRepository({ kind: 'layout', path: join(dir, 'store') }, { create: true });
});
afterEach(async () => {
  await repo.close();
  await rm(dir, { recursive: true, force: true });
});

const blobFile = (digest: string): string => join(repo.root, 'blobs', 'sha256', digest.slice('sha256:'.length));
const readIndexJson = async (): Promise<{ manifests: Descriptor[] }> => JSON.parse(await readFile(join(repo.root, 'index.json'), 'utf8'));
const desc = (data: Buffer, mediaType: string = MediaType.OciLayerTarGzip): Descriptor => ({ mediaType, digest: digestOf(data), size: data.length });

/** Manifest bytes as another tool might write them: odd spacing, so any re-encoding would change the digest. */
function manifest(fields: Record<string, unknown> = {}): Buffer {
  const config = Buffer.from('{}');
  const body = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: desc(config, MediaType.OciEmpty), layers: [], ...fields };
  return Buffer.from(JSON.stringify(body, null, 3) + '\n');
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; kind: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; kind: string; message: string };
  }
  throw new Error('expected a rejection');
}

describe('opening a layout', () => {
  it('creates a missing (nested) path with oci-layout, an empty index.json and blobs/sha256', async () => {
    const path = join(dir, 'a', 'b', 'new');
    const created = await openLayoutRepository({ kind: 'layout', path }, { create: true });
    expect(JSON.parse(await readFile(join(path, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(await readFile(join(path, 'index.json'), 'utf8'))).toEqual({ schemaVersion: 2, manifests: [] });
    expect((await stat(join(path, 'blobs', 'sha256'))).isDirectory()).toBe(true);
    expect(created.displayName).toBe(path);
    expect(await readdir(path)).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('creates a layout in an existing empty directory and reopens it without create', async () => {
    const path = join(dir, 'empty');
    await mkdir(path);
    await openLayoutRepository({ kind: 'layout', path }, { create: true });
    const again = await openLayoutRepository({ kind: 'layout', path });
    expect(await again.listTags()).toEqual([]);
  });

  it('refuses a missing path when not creating: LAYOUT_NOT_FOUND', async () => {
    const path = join(dir, 'missing');
    const err = await rejection(openLayoutRepository({ kind: 'layout', path }));
    expect(err).toMatchObject({ code: 'LAYOUT_NOT_FOUND', kind: 'usage' });
    expect(err.message).toContain(path);
    expect(err.message).not.toContain('\n');
    await expect(stat(path)).rejects.toThrow();
  });

  it('never turns a non-empty directory into a layout', async () => {
    const path = join(dir, 'project');
    await mkdir(path);
    await writeFile(join(path, 'README.md'), 'hi');
    const err = await rejection(openLayoutRepository({ kind: 'layout', path }, { create: true }));
    expect(err).toMatchObject({ code: 'LAYOUT_INVALID', kind: 'usage' });
    expect(await readdir(path)).toEqual(['README.md']);
  });

  it.each([
    ['a file', async (p: string) => writeFile(p, 'x'), /not a directory/],
    ['no oci-layout', async (p: string) => mkdir(p).then(() => writeFile(join(p, 'index.json'), '{"schemaVersion":2,"manifests":[]}')), /no 'oci-layout'/],
    ['another version', async (p: string) => {
      await mkdir(p);
      await writeFile(join(p, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
      await writeFile(join(p, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    }, /imageLayoutVersion is "2.0.0"/],
    ['a broken oci-layout', async (p: string) => {
      await mkdir(p);
      await writeFile(join(p, 'oci-layout'), 'nope');
    }, /not readable JSON/],
    ['no index.json', async (p: string) => mkdir(p).then(() => writeFile(join(p, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')), /index.json.*missing/],
    ['a broken index.json', async (p: string) => {
      await mkdir(p);
      await writeFile(join(p, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      await writeFile(join(p, 'index.json'), '{"schemaVersion":2,"manifests":{}}');
    }, /index.json.*'manifests'/],
  ])('refuses %s with LAYOUT_INVALID', async (_what, make, message) => {
    const path = join(dir, 'bad');
    await make(path);
    const err = await rejection(openLayoutRepository({ kind: 'layout', path }));
    expect(err).toMatchObject({ code: 'LAYOUT_INVALID', kind: 'usage' });
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
  });
});

describe('manifests', () => {
  it('stores the exact bytes under a tag and serves them by tag and by digest', async () => {
    const bytes = manifest({ annotations: { a: 'b' } });
    const digest = await repo.putManifest('v1', bytes, MediaType.OciManifest);
    expect(digest).toBe(digestOf(bytes));
    expect(await readFile(blobFile(digest))).toEqual(bytes);

    const byTag = await repo.getManifest('v1');
    expect(byTag).toEqual({ bytes, digest, mediaType: MediaType.OciManifest });
    expect((await repo.getManifest(digest)).bytes.equals(bytes)).toBe(true);
    expect(await repo.resolve('v1')).toEqual({ mediaType: MediaType.OciManifest, digest, size: bytes.length });
    expect(await repo.resolve(digest)).toEqual({ mediaType: MediaType.OciManifest, digest, size: bytes.length });
    expect((await readIndexJson()).manifests).toEqual([
      { mediaType: MediaType.OciManifest, digest, size: bytes.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } },
    ]);
  });

  it('says MANIFEST_UNKNOWN, naming the layout and the reference, for what is absent', async () => {
    const err = await rejection(repo.getManifest('nope'));
    expect(err).toMatchObject({ code: 'MANIFEST_UNKNOWN' });
    expect(err.message).toContain(repo.root);
    expect(err.message).toContain("'nope'");
    const missing = digestOf('x');
    expect(await rejection(repo.getManifest(missing))).toMatchObject({ code: 'MANIFEST_UNKNOWN' });
    expect(await repo.resolve('nope')).toBeUndefined();
    expect(await repo.resolve(missing)).toBeUndefined();
  });

  it('moves a tag to a new manifest and keeps the old one as a blob', async () => {
    const first = manifest({ annotations: { n: '1' } });
    const second = manifest({ annotations: { n: '2' } });
    const d1 = await repo.putManifest('v1', first, MediaType.OciManifest);
    const d2 = await repo.putManifest('v1', second, MediaType.OciManifest);
    expect((await repo.getManifest('v1')).digest).toBe(d2);
    expect((await readIndexJson()).manifests.map((e) => e.digest)).toEqual([d2]);
    // reachable by digest as a plain blob, media type read from its bytes
    expect(await repo.getManifest(d1)).toEqual({ bytes: first, digest: d1, mediaType: MediaType.OciManifest });
  });

  it('puts by digest as one untagged entry, and a later tag takes that entry over', async () => {
    const bytes = manifest();
    const digest = digestOf(bytes);
    expect(await repo.putManifest(digest, bytes, MediaType.OciManifest)).toBe(digest);
    await repo.putManifest(digest, bytes, MediaType.OciManifest);
    expect((await readIndexJson()).manifests).toEqual([{ mediaType: MediaType.OciManifest, digest, size: bytes.length }]);
    expect(await repo.listTags()).toEqual([]);
    await repo.putManifest('v1', bytes, MediaType.OciManifest);
    expect((await readIndexJson()).manifests).toHaveLength(1);
    expect(await repo.listTags()).toEqual(['v1']);
  });

  it('refuses bytes that do not match the digest they are put under, bad tags, non-JSON and oversized manifests', async () => {
    expect(await rejection(repo.putManifest(digestOf('other'), manifest(), MediaType.OciManifest))).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await rejection(repo.putManifest('-bad', manifest(), MediaType.OciManifest))).toMatchObject({ code: 'TAG_INVALID', kind: 'usage' });
    expect(await rejection(repo.putManifest('v1', Buffer.from('not json'), MediaType.OciManifest))).toMatchObject({ code: 'MANIFEST_INVALID' });
    const huge = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20);
    expect(await rejection(repo.putManifest('v1', huge, MediaType.OciManifest))).toMatchObject({ code: 'MANIFEST_TOO_LARGE' });
    expect((await readIndexJson()).manifests).toEqual([]);
    expect(await readdir(join(repo.root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('refuses a manifest blob changed on disk: DIGEST_MISMATCH', async () => {
    const digest = await repo.putManifest('v1', manifest(), MediaType.OciManifest);
    await writeFile(blobFile(digest), manifest({ annotations: { evil: 'yes' } }));
    expect(await rejection(repo.getManifest('v1'))).toMatchObject({ code: 'SIZE_MISMATCH' });
    const sameSize = Buffer.from(manifest().toString().replace('"schemaVersion"', '"schemaVersioN"'));
    await writeFile(blobFile(digest), sameSize);
    expect(await rejection(repo.getManifest('v1'))).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await rejection(repo.getManifest(digest))).toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('refuses a manifest that index.json says is over the cap, without reading it', async () => {
    const digest = await repo.putManifest('v1', manifest(), MediaType.OciManifest);
    const index = await readIndexJson();
    index.manifests[0]!.size = MAX_MANIFEST_BYTES + 1;
    await writeFile(join(repo.root, 'index.json'), JSON.stringify(index));
    expect(await rejection(repo.getManifest('v1'))).toMatchObject({ code: 'MANIFEST_TOO_LARGE' });
    expect(digest).toMatch(/^sha256:/);
  });

  it('lets the last of several entries with the same tag win', async () => {
    const a = manifest({ annotations: { n: 'a' } });
    const b = manifest({ annotations: { n: 'b' } });
    const da = await repo.putManifest(digestOf(a), a, MediaType.OciManifest);
    const db = await repo.putManifest(digestOf(b), b, MediaType.OciManifest);
    const tagged = (digest: string): Descriptor => ({ mediaType: MediaType.OciManifest, digest, size: a.length, annotations: { 'org.opencontainers.image.ref.name': 'dup' } });
    await writeFile(join(repo.root, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [tagged(da), tagged(db)] }));
    expect((await repo.getManifest('dup')).digest).toBe(db);
    expect(await repo.listTags()).toEqual(['dup']);
    // putting the tag again leaves exactly one entry for it
    await repo.putManifest('dup', a, MediaType.OciManifest);
    expect((await readIndexJson()).manifests).toEqual([tagged(da)]);
  });

  it('deletes every index entry of a digest, keeps other entries and the blob', async () => {
    const a = manifest({ annotations: { n: 'a' } });
    const b = manifest({ annotations: { n: 'b' } });
    const da = await repo.putManifest('one', a, MediaType.OciManifest);
    await repo.putManifest('two', a, MediaType.OciManifest);
    await repo.putManifest('three', b, MediaType.OciManifest);
    await repo.deleteManifest(da);
    expect(await repo.listTags()).toEqual(['three']);
    expect(await repo.hasBlob(da)).toBe(true);
    expect(await rejection(repo.deleteManifest(da))).toMatchObject({ code: 'MANIFEST_UNKNOWN' });
    expect(await rejection(repo.deleteManifest('sha256:../../x'))).toMatchObject({ code: 'DIGEST_INVALID' });
  });

  it('lists tags sorted and unique and leaves no temporary or lock files behind', async () => {
    for (const tag of ['b', 'a', 'c', 'a']) await repo.putManifest(tag, manifest({ annotations: { tag } }), MediaType.OciManifest);
    expect(await repo.listTags()).toEqual(['a', 'b', 'c']);
    expect((await readdir(repo.root)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    expect((await readdir(join(repo.root, 'blobs', 'sha256'))).every((name) => /^[0-9a-f]{64}$/.test(name))).toBe(true);
  });
});

describe('blobs', () => {
  const data = Buffer.from('layer bytes '.repeat(1000));

  it('pushes a buffer once, then reports it present', async () => {
    const events: TransferProgress[] = [];
    expect(await repo.pushBlob(desc(data), data, { onProgress: (e) => events.push(e) })).toBe('uploaded');
    expect(await repo.pushBlob(desc(data), data)).toBe('exists');
    expect(await repo.hasBlob(desc(data).digest)).toBe(true);
    expect(await readFile(blobFile(desc(data).digest))).toEqual(data);
    expect(events.at(-1)).toMatchObject({ direction: 'upload', digest: desc(data).digest, bytes: data.length, total: data.length, done: true });
  });

  it('pushes a replayable stream body', async () => {
    expect(await repo.pushBlob(desc(data), { size: data.length, open: () => Readable.from([data.subarray(0, 10), data.subarray(10)]) })).toBe('uploaded');
    expect(await repo.fetchBlob(desc(data))).toEqual(data);
  });

  it('refuses bytes that do not match the descriptor and leaves nothing behind', async () => {
    const wrong = { ...desc(data), digest: digestOf('something else') };
    expect(await rejection(repo.pushBlob(wrong, data))).toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await rejection(repo.pushBlob({ ...desc(data), size: 3 }, data))).toMatchObject({ code: 'SIZE_MISMATCH' });
    expect(await readdir(join(repo.root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('hashes a stream of unknown digest while writing it', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i));
    const events: TransferProgress[] = [];
    const stored = await repo.pushBlobStream(MediaType.FluxContent, Readable.from(chunks), { onProgress: (e) => events.push(e) });
    const all = Buffer.concat(chunks);
    expect(stored).toEqual({ mediaType: MediaType.FluxContent, digest: digestOf(all), size: all.length });
    expect((await readFile(blobFile(stored.digest))).equals(all)).toBe(true); // toEqual walks 1 MiB element by element
    expect(events.length).toBeGreaterThan(2);
    expect(events.at(-1)).toMatchObject({ digest: stored.digest, bytes: all.length, done: true });
    expect(await readdir(join(repo.root, 'blobs', 'sha256'))).toEqual([stored.digest.slice(7)]);
  });

  it('removes the temporary file when a streamed source fails', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('source broke'));
      },
    });
    await expect(repo.pushBlobStream(MediaType.FluxContent, failing)).rejects.toThrow('source broke');
    expect(await readdir(join(repo.root, 'blobs', 'sha256'))).toEqual([]);
  });

  it('streams a blob verified, with progress', async () => {
    await repo.pushBlob(desc(data), data);
    const events: TransferProgress[] = [];
    const stream = await repo.openBlob(desc(data), { onProgress: (e) => events.push(e) });
    expect(await text(stream)).toBe(data.toString());
    expect(events.at(-1)).toMatchObject({ direction: 'download', bytes: data.length, total: data.length, done: true });
  });

  it('fails the stream and fetchBlob on a blob corrupted on disk: DIGEST_MISMATCH', async () => {
    await repo.pushBlob(desc(data), data);
    const corrupt = Buffer.from(data);
    corrupt[100] = corrupt[100]! ^ 1;
    await writeFile(blobFile(desc(data).digest), corrupt);
    const events: TransferProgress[] = [];
    const stream = await repo.openBlob(desc(data), { onProgress: (e) => events.push(e) });
    await expect(text(stream)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(events.some((e) => e.done)).toBe(false);
    expect(await rejection(repo.fetchBlob(desc(data)))).toMatchObject({ code: 'DIGEST_MISMATCH' });
  });

  it('fails the stream when the descriptor size is wrong: SIZE_MISMATCH', async () => {
    await repo.pushBlob(desc(data), data);
    const stream = await repo.openBlob({ ...desc(data), size: data.length - 1 });
    await expect(text(stream)).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
  });

  it('says BLOB_UNKNOWN for a missing blob and caps fetchBlob', async () => {
    expect(await rejection(repo.openBlob(desc(data)))).toMatchObject({ code: 'BLOB_UNKNOWN' });
    expect(await rejection(repo.fetchBlob(desc(data)))).toMatchObject({ code: 'BLOB_UNKNOWN' });
    await repo.pushBlob(desc(data), data);
    expect(await rejection(repo.fetchBlob(desc(data), { maxBytes: 100 }))).toMatchObject({ code: 'BLOB_TOO_LARGE' });
    // a descriptor understating the size does not get around the cap: the file is measured too
    expect(await rejection(repo.fetchBlob({ ...desc(data), size: 10 }, { maxBytes: 100 }))).toMatchObject({ code: 'BLOB_TOO_LARGE' });
  });

  it('mounts within the layout exactly when the blob is present', async () => {
    expect(await repo.mountBlob(desc(data), 'elsewhere')).toBe(false);
    await repo.pushBlob(desc(data), data);
    expect(await repo.mountBlob(desc(data), 'elsewhere')).toBe(true);
  });

  it('refuses digests that would leave blobs/ before touching the disk', async () => {
    for (const digest of ['sha256:../../../../etc/passwd', `sha256:${'0'.repeat(62)}/.`, '../../x']) {
      expect(await rejection(repo.hasBlob(digest))).toMatchObject({ code: 'DIGEST_INVALID' });
      expect(await rejection(repo.openBlob({ mediaType: 'x', digest, size: 1 }))).toMatchObject({ code: 'DIGEST_INVALID' });
      expect(await rejection(repo.pushBlob({ mediaType: 'x', digest, size: 1 }, Buffer.from('x')))).toMatchObject({ code: 'DIGEST_INVALID' });
    }
  });
});

describe('referrers', () => {
  const subjectBytes = manifest({ annotations: { role: 'subject' } });
  const subject: Descriptor = { mediaType: MediaType.OciManifest, digest: digestOf(subjectBytes), size: subjectBytes.length };

  it('finds manifests whose subject is the digest, with artifactType and annotations, filtered on request', async () => {
    await repo.putManifest('v1', subjectBytes, MediaType.OciManifest);
    const sig = manifest({ artifactType: 'application/vnd.example.sig', subject, annotations: { who: 'me' } });
    const legacy = manifest({ config: { mediaType: MediaType.NotarySignature, digest: digestOf('{}'), size: 2 }, subject });
    const unrelated = manifest({ subject: { ...subject, digest: digestOf('other') } });
    const dSig = await repo.putManifest(digestOf(sig), sig, MediaType.OciManifest);
    const dLegacy = await repo.putManifest('legacy', legacy, MediaType.OciManifest);
    await repo.putManifest(digestOf(unrelated), unrelated, MediaType.OciManifest);

    expect(await repo.referrers(subject.digest)).toEqual([
      { mediaType: MediaType.OciManifest, digest: dSig, size: sig.length, artifactType: 'application/vnd.example.sig', annotations: { who: 'me' } },
      { mediaType: MediaType.OciManifest, digest: dLegacy, size: legacy.length, artifactType: MediaType.NotarySignature },
    ]);
    expect((await repo.referrers(subject.digest, { artifactType: MediaType.NotarySignature })).map((d) => d.digest)).toEqual([dLegacy]);
    expect(await repo.referrers(subject.digest, { artifactType: 'application/none' })).toEqual([]);
    expect(await repo.referrers(digestOf('nothing refers to this'))).toEqual([]);
  });

  it('adds the entries of the sha256-<hex> fallback index, each digest once', async () => {
    const sig = manifest({ artifactType: 'application/vnd.example.sig', subject });
    const dSig = await repo.putManifest(digestOf(sig), sig, MediaType.OciManifest);
    const onlyInFallback: Descriptor = { mediaType: MediaType.OciManifest, digest: digestOf('elsewhere'), size: 9, artifactType: 'application/other' };
    const fallback = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [{ mediaType: MediaType.OciManifest, digest: dSig, size: sig.length, artifactType: 'stale' }, onlyInFallback],
    }));
    await repo.putManifest(`sha256-${subject.digest.slice(7)}`, fallback, MediaType.OciIndex);

    const found = await repo.referrers(subject.digest);
    expect(found.map((d) => d.digest)).toEqual([dSig, onlyInFallback.digest]);
    expect(found[0]!.artifactType).toBe('application/vnd.example.sig');
    expect(await repo.referrers(subject.digest, { artifactType: 'application/other' })).toEqual([onlyInFallback]);
  });

  it('keeps a referrer findable when its tag moves to another manifest', async () => {
    const sig = manifest({ artifactType: 'application/vnd.example.sig', subject });
    const dSig = await repo.putManifest('sig', sig, MediaType.OciManifest);
    await repo.putManifest('sig', manifest({ annotations: { n: 'plain' } }), MediaType.OciManifest);
    expect((await repo.referrers(subject.digest)).map((d) => d.digest)).toEqual([dSig]);
    expect(await repo.listTags()).toEqual(['sig']);
  });

  it('fails on a referrer candidate corrupted on disk instead of skipping it', async () => {
    const sig = manifest({ subject });
    const dSig = await repo.putManifest(digestOf(sig), sig, MediaType.OciManifest);
    await writeFile(blobFile(dSig), Buffer.from(sig.toString().replace('"layers"', '"layerz"')));
    expect(await rejection(repo.referrers(subject.digest))).toMatchObject({ code: 'DIGEST_MISMATCH' });
  });
});
