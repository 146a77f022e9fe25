import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository } from '../../src/ops/support/open-repository.js';
import type { Descriptor, ImageIndex, ImageManifest, Repository } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseReference } from '../../src/ref/reference.js';
import { verifyArtifact, type VerifyPolicy } from '../../src/signing/index.js';
import { notationEnvelope, signNotation, THUMBPRINT_ANNOTATION } from '../../src/signing/notation/sign.js';
import { pushReferrer } from '../../src/signing/referrer.js';
import { generateCert, type GeneratedCert } from '../../fixtures/signing/generate.js';
import { pushSmallArtifact } from '../helpers/fixtures.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { SIGNATURE_VECTORS } from '../helpers/vectors.js';

const VECTOR = join(SIGNATURE_VECTORS, 'notation-jws-oci', 'oci-layout', 'blobs', 'sha256');
const vectorBlob = (hexPrefix: string) => JSON.parse(readFileSync(join(VECTOR, hexPrefix)).toString()) as Record<string, unknown>;

let registry: TestRegistry;
let dir: string;
let leaf: GeneratedCert;
let policy: VerifyPolicy;
const repos: Repository[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  dir = mkdtempSync(join(tmpdir(), 'notation-sign-registry-'));
  leaf = generateCert(dir, { name: 'signer', subject: '/C=US/ST=WA/O=Tests/CN=release signer', days: 2 });
  const policyPath = join(dir, 'trustpolicy.json');
  writeFileSync(policyPath, JSON.stringify({
    version: '1.0',
    trustPolicies: [{ name: 'releases', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:releases'], trustedIdentities: ['x509.subject: C=US, ST=WA, O=Tests, CN=release signer'] }],
  }));
  policy = { provider: 'notation', trustPolicyPath: policyPath, trustStorePath: leaf.certPath };
});
afterAll(async () => {
  await Promise.all(repos.map((r) => r.close()));
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function artifact(name: string): Promise<{ repo: Repository; subject: Descriptor }> {
  const repo = await openRepository(parseReference(`oci://${registry.host}/${name}`), { insecure: true });
  repos.push(repo);
  return { repo, subject: await pushSmallArtifact(repo) };
}

describe('notation signing against the CNCF Distribution registry', () => {
  it('JWS and COSE signatures verify under a strict trust policy with a trusted identity', async () => {
    const { repo, subject } = await artifact('notation/signed');
    const jws = await signNotation(repo, subject, { keyPath: leaf.keyPath, certChainPath: leaf.certPath });
    const cose = await signNotation(repo, subject, { keyPath: leaf.keyPath, certChainPath: leaf.certPath, envelope: 'cose', expirySeconds: 3600 });
    expect(jws.kind).toBe('notation-jws');
    expect(cose.kind).toBe('notation-cose');
    const report = await verifyArtifact(repo, subject, policy);
    expect(report).toMatchObject({ verified: true, reason: '2 of 2 signatures verified' });
    expect(report.signatures.map((s) => s.source).sort()).toEqual([jws.location, cose.location].sort());
  });

  it('the signature manifest and the fallback index entry carry what notation writes (compared with the vector)', async () => {
    const { repo, subject } = await artifact('notation/shape');
    const { location } = await signNotation(repo, subject, { keyPath: leaf.keyPath, certChainPath: leaf.certPath });
    const ours = JSON.parse((await repo.getManifest(location)).bytes.toString()) as ImageManifest;
    const real = vectorBlob('90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f') as unknown as ImageManifest;
    // notation 1.0 wrote the artifact type as config media type; 1.1+ (and OCI 1.1) as artifactType, config empty.
    expect(ours.artifactType).toBe(real.config.mediaType);
    expect(ours.config).toEqual({ mediaType: 'application/vnd.oci.empty.v1+json', digest: real.config.digest, size: 2 });
    expect(ours.layers.map((l) => l.mediaType)).toEqual(real.layers.map((l) => l.mediaType));
    expect(Object.keys(ours.subject!).sort()).toEqual(Object.keys(real.subject!).sort());
    expect(ours.subject).toEqual(subject);
    expect(Object.keys(ours.annotations!).sort()).toEqual(Object.keys(real.annotations!).sort());
    expect(JSON.parse(ours.annotations![THUMBPRINT_ANNOTATION]!)).toEqual([digestOf(leaf.der).slice(7)]);

    const index = JSON.parse((await repo.getManifest(`sha256-${subject.digest.slice(7)}`)).bytes.toString()) as ImageIndex;
    const realIndex = vectorBlob('13e107e0dd246f07ff18998a3d39e226965c41477a1bc1765f7617632ff3f283') as unknown as ImageIndex;
    expect(index.mediaType).toBe(realIndex.mediaType);
    const entry = index.manifests.find((m) => m.digest === location)!;
    expect(Object.keys(entry).sort()).toEqual(Object.keys(realIndex.manifests[0]!).sort());
    expect(entry.artifactType).toBe(realIndex.manifests[0]!.artifactType);
    expect(entry.annotations).toEqual(ours.annotations);
  });

  it('a tampered envelope (payload byte) stored as the only signature fails verification', async () => {
    const { repo, subject } = await artifact('notation/tampered');
    const envelope = notationEnvelope(subject, { keyPath: leaf.keyPath, certChainPath: leaf.certPath });
    const env = JSON.parse(envelope.bytes.toString()) as Record<string, string>;
    const payload = Buffer.from(env.payload!, 'base64url');
    payload[payload.length - 3]! ^= 1; // inside the size number
    const tampered = Buffer.from(JSON.stringify({ ...env, payload: payload.toString('base64url') }));
    await pushReferrer(repo, { artifactType: 'application/vnd.cncf.notary.signature', layer: { mediaType: envelope.mediaType, bytes: tampered }, subject, annotations: {} });
    const report = await verifyArtifact(repo, subject, policy);
    expect(report).toMatchObject({ verified: false, reason: '0 of 1 signature verified' });
    expect(report.signatures[0]!.reason).toBe('signature does not match the signing certificate');
  });
});
