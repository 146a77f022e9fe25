import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKey, publicKeyPem } from '../../fixtures/signing/generate.js';
import type { ImageManifest } from '../../src/oci/types.js';
import { attest } from '../../src/ops/attest.js';
import { copy } from '../../src/ops/copy.js';
import { inspect } from '../../src/ops/inspect.js';
import { push } from '../../src/ops/push.js';
import type { OpContext } from '../../src/ops/support/context.js';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { verifyAttestation } from '../../src/ops/verify-attestation.js';
import { verify } from '../../src/ops/verify.js';
import { parseReference } from '../../src/ref/reference.js';
import { writeAttestationBundle } from '../../src/signing/attest/attest.js';
import { KUSTOMIZE_FIXTURE, REVISION, SOURCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { SIGNATURE_VECTORS } from '../helpers/vectors.js';

const registry = useRegistry();
const work = useWorkDir('oci-artifact-attest-');
const oci = (repo: string, tag = 'v1') => `oci://${registry.host}/${repo}:${tag}`;
const ctx = (): OpContext => ({ signal: AbortSignal.timeout(60_000), repositoryOptions: {} });
const SLSA1 = 'https://slsa.dev/provenance/v1';

async function pushed(repo: string): Promise<string> {
  const r = await push({ ref: parseReference(oci(repo)), path: KUSTOMIZE_FIXTURE, source: SOURCE, revision: `${REVISION}-${repo}` }, ctx());
  return r.digest;
}

function keypair(name: string): { key: string; pub: string } {
  const key = generateKey(work.path, name, 'ec');
  return { key, pub: publicKeyPem(work.path, key, name) };
}

function predicateFile(name: string, content: object): string {
  const path = join(work.path, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const provenance = { buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: {}, resolvedDependencies: [] }, runDetails: { builder: { id: 'https://example.com/builder' }, metadata: {} } };

describe('attest and verify --attestation against the CNCF Distribution registry (key)', () => {
  it('round trip: the attestation of the asked type verifies with the key and yields its predicate', async () => {
    const digest = await pushed('attest/roundtrip');
    const a = keypair('attest-a');
    const file = predicateFile('provenance.json', provenance);
    const written = await attest(parseReference(oci('attest/roundtrip')), { predicate: { type: 'slsaprovenance1', path: file }, keyPath: a.key }, ctx());
    expect(written).toMatchObject({ digest, kind: 'attestation', predicateType: SLSA1 });
    const other = await attest(parseReference(oci('attest/roundtrip')), { predicate: { type: 'custom', path: file }, keyPath: a.key }, ctx());

    const report = await verifyAttestation(parseReference(oci('attest/roundtrip')), { provider: 'cosign', keys: [a.pub] }, SLSA1, ctx());
    expect(report).toMatchObject({ digest, verified: true, reason: '1 of 1 attestation verified' });
    expect(report.attestations[0]).toMatchObject({ source: written.location, verified: true, predicateType: SLSA1, predicate: provenance });

    const custom = await verifyAttestation(parseReference(oci('attest/roundtrip')), { provider: 'cosign', keys: [a.pub] }, 'custom', ctx());
    expect(custom.attestations.map((x) => x.source)).toEqual([other.location]);
    expect(custom.attestations[0]!.predicate).toMatchObject({ Data: JSON.stringify(provenance) });

    const wrongKey = await verifyAttestation(parseReference(oci('attest/roundtrip')), { provider: 'cosign', keys: [keypair('attest-b').pub] }, SLSA1, ctx());
    expect(wrongKey).toMatchObject({ verified: false, reason: '0 of 1 attestation verified' });
    expect(wrongKey.attestations[0]!.predicate).toBeUndefined();
    const none = await verifyAttestation(parseReference(oci('attest/roundtrip')), { provider: 'cosign', keys: [a.pub] }, 'cyclonedx', ctx());
    expect(none).toMatchObject({ verified: false, attestations: [], reason: 'no https://cyclonedx.org/bom attestations found' });
  });

  it('an attestation is not a signature: verify with the attesting key fails while only attestations exist', async () => {
    await pushed('attest/not-a-signature');
    const a = keypair('attest-only');
    await attest(parseReference(oci('attest/not-a-signature')), { predicate: { predicateType: SLSA1, predicate: provenance }, keyPath: a.key }, ctx());
    const report = await verify({ ref: parseReference(oci('attest/not-a-signature')), policy: { provider: 'cosign', keys: [a.pub] } }, ctx());
    expect(report.verified).toBe(false);
    expect(report.signatures.map((s) => s.reason)).toEqual([`bundle is an attestation (predicate ${SLSA1}), not a signature: check it with verify --attestation`]);
  });

  it('an attestation whose statement names another digest does not verify for this artifact', async () => {
    const first = await pushed('attest/moved');
    const a = keypair('attest-moved');
    const { location } = await attest(parseReference(oci('attest/moved')), { predicate: { predicateType: SLSA1, predicate: provenance }, keyPath: a.key }, ctx());
    // Another artifact (v2, another revision annotation) gets the same bundle as its referrer: the signature is
    // good and the referrer's subject is v2, but the signed statement still names v1.
    const v2 = await push({ ref: parseReference(oci('attest/moved', 'v2')), path: KUSTOMIZE_FIXTURE, source: SOURCE, revision: `${REVISION}-v2` }, ctx());
    expect(v2.digest).not.toBe(first);
    const repo = await openRepository(parseReference(oci('attest/moved')), {});
    try {
      const manifest = JSON.parse((await repo.getManifest(location)).bytes.toString()) as ImageManifest;
      const bundle = await repo.fetchBlob(manifest.layers[0]!, {});
      const v2Manifest = await repo.getManifest(v2.digest);
      await writeAttestationBundle(repo, { mediaType: v2Manifest.mediaType, digest: v2.digest, size: v2Manifest.bytes.length }, bundle, SLSA1);
    } finally {
      await repo.close();
    }
    const report = await verifyAttestation(parseReference(oci('attest/moved', 'v2')), { provider: 'cosign', keys: [a.pub] }, SLSA1, ctx());
    expect(report.verified).toBe(false);
    expect(report.attestations[0]!.reason).toBe(`statement subject names ${first.slice(0, 19)}…, not the artifact`);
  });

  it('the referrer has the shape cosign v3 gives attestations, and the bundle the shape of the real cosign attest bundle', async () => {
    const digest = await pushed('attest/shape');
    const a = keypair('attest-shape');
    const { location } = await attest(parseReference(oci('attest/shape')), { predicate: { predicateType: SLSA1, predicate: provenance }, keyPath: a.key }, ctx());
    const repo = await openRepository(parseReference(oci('attest/shape')), {});
    try {
      const manifest = JSON.parse((await repo.getManifest(location)).bytes.toString()) as ImageManifest;
      expect(manifest.artifactType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      expect(manifest.config.mediaType).toBe('application/vnd.oci.empty.v1+json');
      expect(manifest.layers.map((l) => l.mediaType)).toEqual(['application/vnd.dev.sigstore.bundle.v0.3+json']);
      expect(manifest.subject?.digest).toBe(digest);
      expect(Object.keys(manifest.annotations!).sort()).toEqual(['dev.sigstore.bundle.content', 'dev.sigstore.bundle.predicateType', 'org.opencontainers.image.created']);
      expect(manifest.annotations).toMatchObject({ 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': SLSA1 });

      const ours = JSON.parse((await repo.fetchBlob(manifest.layers[0]!, {})).toString()) as Record<string, Record<string, unknown>>;
      const real = JSON.parse(readFileSync(join(SIGNATURE_VECTORS, 'cosign-v3-bundle-dsse', 'bundle.sigstore.json'), 'utf8')) as Record<string, Record<string, unknown>>;
      expect(ours.mediaType).toBe(real.mediaType);
      expect(Object.keys(ours.dsseEnvelope!).sort()).toEqual(Object.keys(real.dsseEnvelope!).sort());
      expect(ours.dsseEnvelope!.payloadType).toBe(real.dsseEnvelope!.payloadType);
      const statement = (b: Record<string, Record<string, unknown>>) => JSON.parse(Buffer.from(b.dsseEnvelope!.payload as string, 'base64').toString()) as Record<string, unknown>;
      const st = statement(ours);
      expect(Object.keys(st).sort()).toEqual(Object.keys(statement(real)).sort());
      expect(st).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', predicateType: SLSA1, subject: [{ name: `${registry.host}/attest/shape`, digest: { sha256: digest.slice(7) } }] });
    } finally {
      await repo.close();
    }
  });

  it('inspect lists the attestation beside the signature, and signature verification still works beside it', async () => {
    const digest = await pushed('attest/inspect');
    const a = keypair('attest-inspect');
    const { sign } = await import('../../src/ops/sign.js');
    await sign({ ref: parseReference(oci('attest/inspect')), keyPath: a.key, format: 'bundle' }, ctx());
    const att = await attest(parseReference(oci('attest/inspect')), { predicate: { predicateType: SLSA1, predicate: provenance }, keyPath: a.key }, ctx());
    const result = await inspect({ ref: parseReference(oci('attest/inspect')) }, ctx());
    expect(result.digest).toBe(digest);
    const kinds = result.referrers.map((r) => [r.kind, r.predicateType]);
    expect(kinds).toContainEqual(['signature', undefined]);
    expect(result.referrers.find((r) => r.digest === att.location)).toMatchObject({ kind: 'attestation', predicateType: SLSA1 });
    expect((await verify({ ref: parseReference(oci('attest/inspect')), policy: { provider: 'cosign', keys: [a.pub] } }, ctx())).verified).toBe(true);
  });

  it('copy carries attestations to another registry repository and to an OCI layout, where they verify', async () => {
    const digest = await pushed('attest/copy-src');
    const a = keypair('attest-copy');
    await attest(parseReference(oci('attest/copy-src')), { predicate: { predicateType: SLSA1, predicate: provenance }, keyPath: a.key }, ctx());
    const policy = { provider: 'cosign' as const, keys: [a.pub] };

    const toRegistry = await copy({ source: parseReference(oci('attest/copy-src')), destination: parseReference(oci('attest/copy-dst')) }, ctx());
    expect(toRegistry).toMatchObject({ digest, signatures: 1 });
    const there = await verifyAttestation(parseReference(oci('attest/copy-dst')), policy, SLSA1, ctx());
    expect(there).toMatchObject({ digest, verified: true });
    expect(there.attestations[0]!.predicate).toEqual(provenance);

    const layout = `oci-layout://${join(work.path, 'attest-layout')}:v1`;
    expect((await copy({ source: parseReference(oci('attest/copy-src')), destination: parseReference(layout) }, ctx())).signatures).toBe(1);
    expect(await verifyAttestation(parseReference(layout), policy, SLSA1, ctx())).toMatchObject({ digest, verified: true });
  });
});
