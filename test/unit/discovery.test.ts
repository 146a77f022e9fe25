import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKey } from '../../fixtures/signing/generate.js';
import { OciError } from '../../src/errors.js';
import { openLayoutRepository } from '../../src/layout/repository.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import type { Descriptor, ImageManifest, Repository } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { MAX_LEGACY_SIGNATURE_LAYERS, readLegacySignatureManifest } from '../../src/signing/discovery.js';
import { signArtifact } from '../../src/signing/index.js';
import { useWorkDir } from '../helpers/fixtures.js';

/** The cosign `.sig` tag as sign and verify read it, in an OCI layout (same Repository contract as a registry). */
const work = useWorkDir('oci-artifact-sig-tag-');

async function subjectIn(name: string): Promise<{ repo: Repository; subject: Descriptor }> {
  const repo = await openLayoutRepository({ kind: 'layout', path: join(work.path, name) }, { create: true });
  const empty = Buffer.from('{}');
  const config: Descriptor = { mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: empty.length };
  await repo.pushBlob(config, empty);
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [] }));
  await repo.putManifest('v1', bytes, MediaType.OciManifest);
  return { repo, subject: { mediaType: MediaType.OciManifest, digest: digestOf(bytes), size: bytes.length } };
}

describe('legacy .sig tag', () => {
  it('is absent before signing, and each signature adds a layer to the same manifest', async () => {
    const { repo, subject } = await subjectIn('twice');
    expect(await readLegacySignatureManifest(repo, subject.digest)).toBeUndefined();
    const keyPath = generateKey(work.path, 'twice', 'ec');
    await signArtifact(repo, subject, { keyPath });
    await signArtifact(repo, subject, { keyPath, annotations: { run: '2' } });
    const manifest = (await readLegacySignatureManifest(repo, subject.digest)) as ImageManifest;
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([MediaType.CosignSimpleSigning, MediaType.CosignSimpleSigning]);
  });

  it('that is not an image manifest stops sign with one clear error instead of a JSON exception', async () => {
    const { repo, subject } = await subjectIn('garbage');
    const tag = `sha256-${subject.digest.slice('sha256:'.length)}.sig`;
    await repo.putManifest(tag, Buffer.from('{"not": "a manifest"}'), MediaType.OciManifest);
    const keyPath = generateKey(work.path, 'garbage', 'ec');
    const err = await signArtifact(repo, subject, { keyPath }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OciError);
    expect(err).toMatchObject({ code: 'SIGNATURE_INVALID', message: expect.stringContaining(`${tag} is not an image manifest`) });
    expect((err as OciError).hint).toContain(`delete the tag ${tag}`);
  });

  it(`refuses to grow the manifest past the ${MAX_LEGACY_SIGNATURE_LAYERS} layers verify reads, and leaves it as it was`, async () => {
    const { repo, subject } = await subjectIn('full');
    const keyPath = generateKey(work.path, 'full', 'ec');
    await signArtifact(repo, subject, { keyPath });
    const one = (await readLegacySignatureManifest(repo, subject.digest)) as ImageManifest;
    const layers = Array.from({ length: MAX_LEGACY_SIGNATURE_LAYERS }, (_, i) => ({ ...one.layers[0]!, annotations: { n: String(i) } }));
    const tag = `sha256-${subject.digest.slice('sha256:'.length)}.sig`;
    const full = Buffer.from(JSON.stringify({ ...one, layers }));
    await repo.putManifest(tag, full, MediaType.OciManifest);
    const err = await signArtifact(repo, subject, { keyPath }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOO_MANY_SIGNATURES', message: expect.stringContaining(`has ${MAX_LEGACY_SIGNATURE_LAYERS + 1} layers; at most ${MAX_LEGACY_SIGNATURE_LAYERS} are read`) });
    expect((await repo.getManifest(tag)).bytes.equals(full)).toBe(true);
  });
});
