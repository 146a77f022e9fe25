import { chmod, cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLayoutRepository } from '../../src/layout/repository.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { SIGNATURE_VECTORS } from '../helpers/vectors.js';

/**
 * Layouts written by notation's own tooling (read-only fixtures: opened without `create`, never written; the
 * tests check that by comparing every file's mtime before and after).
 */
const FIXTURES = SIGNATURE_VECTORS;
const JWS = join(FIXTURES, 'notation-jws-oci');
const COSE = join(FIXTURES, 'notation-cose-oci');

const JWS_SUBJECT = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
const JWS_SIGNATURE = 'sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f';
const COSE_SUBJECT: Descriptor = {
  mediaType: MediaType.OciManifest,
  digest: 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0',
  size: 481,
};

async function snapshot(root: string): Promise<string[]> {
  const lines: string[] = [];
  for (const name of await readdir(root, { recursive: true })) {
    const info = await stat(join(root, name));
    lines.push(`${name} ${info.size} ${info.mtimeMs}`);
  }
  return lines.sort();
}

async function makeWritable(root: string): Promise<void> {
  await chmod(root, 0o755);
  for (const name of await readdir(root, { recursive: true })) {
    const path = join(root, name);
    await chmod(path, (await stat(path)).isDirectory() ? 0o755 : 0o644);
  }
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'layout-notation-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('notation JWS layout (signature manifest + sha256-<hex> fallback index, as notation wrote them)', () => {
  it('finds the signature manifest as the one referrer of the signed artifact', async () => {
    const root = join(JWS, 'oci-layout');
    const before = await snapshot(root);
    const repo = await openLayoutRepository({ kind: 'layout', path: root });

    expect(await repo.listTags()).toEqual([`sha256-${JWS_SUBJECT.slice(7)}`, 'v1']);
    expect((await repo.getManifest('v1')).digest).toBe(JWS_SUBJECT);

    const referrers = await repo.referrers(JWS_SUBJECT);
    // listed in index.json and in the fallback index: reported once
    expect(referrers).toEqual([
      {
        mediaType: MediaType.OciManifest,
        digest: JWS_SIGNATURE,
        size: 728,
        artifactType: MediaType.NotarySignature,
        annotations: {
          'io.cncf.notary.x509chain.thumbprint#S256': '["e38aea13f2b051f7183cca64a51ee676f4d4456f41d9fecf15eb367efc7343b9"]',
          'org.opencontainers.image.created': '2023-06-27T05:30:33Z',
        },
      },
    ]);
    expect(await repo.referrers(JWS_SUBJECT, { artifactType: MediaType.NotarySignature })).toHaveLength(1);
    expect(await repo.referrers(JWS_SUBJECT, { artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' })).toEqual([]);
    expect(await repo.referrers(JWS_SIGNATURE)).toEqual([]);

    // the envelope layer reads back verified and equals the copy next to the layout
    const signature = JSON.parse((await repo.getManifest(JWS_SIGNATURE)).bytes.toString()) as { layers: Descriptor[] };
    expect(signature.layers[0]!.mediaType).toBe(MediaType.Jose);
    const envelope = await repo.fetchBlob(signature.layers[0]!);
    expect(envelope.equals(await readFile(join(JWS, 'signature-envelope.jws.json')))).toBe(true);

    await repo.close();
    expect(await snapshot(root)).toEqual(before);
  });
});

describe('notation COSE layout (containerd-written index, no signature manifest in it)', () => {
  it('reads the signed manifest, then finds a notation COSE signature manifest added to a copy', async () => {
    const original = join(COSE, 'oci-layout');
    const before = await snapshot(original);
    const readOnly = await openLayoutRepository({ kind: 'layout', path: original });
    expect(await readOnly.resolve('v2')).toEqual(COSE_SUBJECT);
    expect(await readOnly.referrers(COSE_SUBJECT.digest)).toEqual([]);
    expect(await snapshot(original)).toEqual(before);

    const copy = join(work, 'cose');
    await cp(original, copy, { recursive: true });
    await makeWritable(copy); // the fixture's modes are read-only (not enforced for root, but for anyone else)
    const repo = await openLayoutRepository({ kind: 'layout', path: copy });
    // A signature manifest in the shape notation pushes: artifactType, empty config, the COSE envelope as layer.
    const envelope = await readFile(join(COSE, 'signature-envelope.cose'));
    const layer: Descriptor = { mediaType: MediaType.Cose, digest: digestOf(envelope), size: envelope.length };
    const empty = Buffer.from('{}');
    const config: Descriptor = { mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 };
    await repo.pushBlob(layer, envelope);
    await repo.pushBlob(config, empty);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: MediaType.NotarySignature,
      config,
      layers: [layer],
      subject: COSE_SUBJECT,
      annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '["9f5f5aecee24b5cfdc7a91f6d5ac5c3a5348feb17c934d403f59ac251549ea0d"]' },
    }));
    const digest = await repo.putManifest(digestOf(manifest), manifest, MediaType.OciManifest);

    expect(await repo.referrers(COSE_SUBJECT.digest, { artifactType: MediaType.NotarySignature })).toEqual([
      {
        mediaType: MediaType.OciManifest,
        digest,
        size: manifest.length,
        artifactType: MediaType.NotarySignature,
        annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '["9f5f5aecee24b5cfdc7a91f6d5ac5c3a5348feb17c934d403f59ac251549ea0d"]' },
      },
    ]);
    // the containerd entry (platform, extra annotations) is kept as it was
    const index = JSON.parse(await readFile(join(copy, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    const originalIndex = JSON.parse(await readFile(join(original, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    expect(index.manifests[0]).toEqual(originalIndex.manifests[0]);
    expect((await repo.fetchBlob(layer)).equals(envelope)).toBe(true);
  });
});
