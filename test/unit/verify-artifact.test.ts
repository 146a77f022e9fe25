import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLayoutRepository, type LayoutRepository } from '../../src/layout/repository.js';
import type { Descriptor, Repository } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { encryptCosignKey, signArtifact, validatePolicy, verifyArtifact, type VerifyPolicy } from '../../src/signing/index.js';
import { verifyBundleBlob } from '../../src/signing/cosign-verify.js';
import { verifyAttestations } from '../../src/signing/attest/verify.js';

const ATTESTATION_V1 = 'https://cosign.sigstore.dev/attestation/v1';
import { loadPublicKeyFile } from '../../src/signing/keys.js';
import { generateKey, publicKeyPem } from '../../fixtures/signing/generate.js';
import { SIGNATURE_VECTORS } from '../helpers/vectors.js';

const FX = SIGNATURE_VECTORS;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const NOW_OFFLINE = { offline: true } as const;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'verify-artifact-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
async function layout(copyFrom?: string): Promise<LayoutRepository> {
  const path = join(tmp, `layout-${++counter}`);
  if (copyFrom) cpSync(copyFrom, path, { recursive: true });
  return openLayoutRepository({ kind: 'layout', path }, { create: !copyFrom });
}

async function putJson(repo: Repository, ref: string | undefined, value: unknown, mediaType = MANIFEST): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = digestOf(bytes);
  await repo.putManifest(ref ?? digest, bytes, mediaType);
  return { mediaType, digest, size: bytes.length };
}

async function blob(repo: Repository, mediaType: string, bytes: Buffer, annotations?: Record<string, string>): Promise<Descriptor> {
  const desc: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.length, ...(annotations ? { annotations } : {}) };
  await repo.pushBlob(desc, bytes);
  return desc;
}

/** Store a fixture's signed manifest (its layers are absent; only the manifest's digest matters). */
async function subjectFrom(repo: Repository, path: string, mediaType: string): Promise<Descriptor> {
  const bytes = readFileSync(path);
  const digest = digestOf(bytes);
  await repo.putManifest(digest, bytes, mediaType);
  return { mediaType, digest, size: bytes.length };
}

/** A cosign `.sig` manifest holding the fixture's payload and annotations, as cosign writes it. */
async function legacySig(repo: Repository, subject: Descriptor, folder: string): Promise<void> {
  const annotations = JSON.parse(readFileSync(`${FX}/${folder}/layer-annotations.json`, 'utf8'));
  const layer = await blob(repo, 'application/vnd.dev.cosign.simplesigning.v1+json', readFileSync(`${FX}/${folder}/payload.json`), annotations);
  const config = await blob(repo, 'application/vnd.oci.image.config.v1+json', Buffer.from('{}'));
  await putJson(repo, `sha256-${subject.digest.slice(7)}.sig`, { schemaVersion: 2, mediaType: MANIFEST, config, layers: [layer] });
}

const cosignKey = (key: string, extra: Partial<VerifyPolicy> = {}): VerifyPolicy => ({ provider: 'cosign', keys: [key], ...extra });

describe('verifyArtifact on OCI layouts', () => {
  it('notation JWS: the e2e layout (legacy signature manifest + fallback index) verifies', async () => {
    const repo = await layout(`${FX}/notation-jws-oci/oci-layout`);
    const subject = (await repo.resolve('v1'))!;
    const policy: VerifyPolicy = { provider: 'notation', trustPolicyPath: `${FX}/notation-jws-oci/trustpolicy.json`, trustStorePath: `${FX}/notation-jws-oci/truststore-ca-e2e.crt` };
    const r = await verifyArtifact(repo, subject, policy);
    expect(r).toMatchObject({ digest: subject.digest, verified: true, reason: '1 of 1 signature verified' });
    expect(r.signatures[0]).toMatchObject({ kind: 'notation-jws', source: 'sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f' });
    const wrongStore = await verifyArtifact(repo, subject, { ...policy, trustStorePath: `${FX}/notation-cose-oci/truststore-ca-alpine.crt` });
    expect(wrongStore.verified).toBe(false);
    const cosign = await verifyArtifact(repo, subject, cosignKey(`${FX}/cosign-legacy-key/cosign.pub`));
    expect(cosign).toMatchObject({ verified: false, signatures: [], reason: 'no cosign signatures found' });
  });

  it('notation COSE and JWS envelopes pushed as referrers of the notation-go layout verify', async () => {
    const repo = await layout(`${FX}/notation-cose-oci/oci-layout`);
    const subject = (await repo.resolve('sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0'))!;
    const empty = await blob(repo, 'application/vnd.oci.empty.v1+json', Buffer.from('{}'));
    for (const [file, mediaType] of [['signature-envelope.cose', 'application/cose'], ['signature-envelope.jws.json', 'application/jose+json']] as const) {
      const layer = await blob(repo, mediaType, readFileSync(`${FX}/notation-cose-oci/${file}`));
      await putJson(repo, undefined, { schemaVersion: 2, mediaType: MANIFEST, artifactType: 'application/vnd.cncf.notary.signature', config: empty, layers: [layer], subject });
    }
    const policyPath = join(tmp, 'alpine-policy.json');
    writeFileSync(policyPath, JSON.stringify({ version: '1.0', trustPolicies: [{ name: 'alpine', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:alpine'], trustedIdentities: ['x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=alpine'] }] }));
    const r = await verifyArtifact(repo, subject, { provider: 'notation', trustPolicyPath: policyPath, trustStorePath: `${FX}/notation-cose-oci/truststore-ca-alpine.crt` });
    expect(r.reason).toBe('2 of 2 signatures verified');
    expect(r.signatures.map((s) => s.kind).sort()).toEqual(['notation-cose', 'notation-jws']);
  });

  it('cosign legacy keyed: verifies, and fails with another key or for another artifact', async () => {
    const repo = await layout();
    const subject = await subjectFrom(repo, `${FX}/cosign-legacy-key/image-manifest.json`, DOCKER_MANIFEST);
    expect(subject.digest).toBe('sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00');
    await legacySig(repo, subject, 'cosign-legacy-key');
    const ok = await verifyArtifact(repo, subject, cosignKey(`${FX}/cosign-legacy-key/cosign.pub`));
    expect(ok.verified).toBe(true);
    expect(ok.signatures).toEqual([expect.objectContaining({ kind: 'cosign-legacy', source: `sha256-${subject.digest.slice(7)}.sig[0]`, verified: true })]);
    const otherKey = await verifyArtifact(repo, subject, cosignKey(`${FX}/cosign-legacy-key-rekor/cosign.pub`));
    expect(otherKey.verified).toBe(false);
    // The same signature copied under another artifact's tag names the wrong digest.
    const other = await subjectFrom(repo, `${FX}/cosign-legacy-key-rekor/image-manifest.json`, DOCKER_MANIFEST);
    await legacySig(repo, other, 'cosign-legacy-key');
    const moved = await verifyArtifact(repo, other, cosignKey(`${FX}/cosign-legacy-key/cosign.pub`));
    expect(moved.signatures[0]!.reason).toBe('payload names sha256:634a8f35b5f1…, not the artifact');
  });

  it('cosign legacy keyed + Rekor: the log is required once a Rekor key is given', async () => {
    const repo = await layout();
    const subject = await subjectFrom(repo, `${FX}/cosign-legacy-key-rekor/image-manifest.json`, DOCKER_MANIFEST);
    await legacySig(repo, subject, 'cosign-legacy-key-rekor');
    const r = await verifyArtifact(repo, subject, cosignKey(`${FX}/cosign-legacy-key-rekor/cosign.pub`, { rekorPublicKeyPath: `${FX}/cosign-legacy-key-rekor/rekor.pub` }));
    expect(r.signatures[0]!.reason).toMatch(/^signed by key cosign.pub, in Rekor \(index 11608800/);
  });

  it('cosign legacy keyless: verifies with trusted_root.json; offline without one is a clear usage error', async () => {
    const repo = await layout();
    const subject = await subjectFrom(repo, `${FX}/cosign-legacy-keyless/image-manifest.json`, DOCKER_MANIFEST);
    await legacySig(repo, subject, 'cosign-legacy-keyless');
    const policy: VerifyPolicy = { provider: 'cosign', certificateIdentity: 'mitr@redhat.com', certificateOidcIssuer: 'https://github.com/login/oauth' };
    const r = await verifyArtifact(repo, subject, { ...policy, trustedRootPath: `${FX}/cosign-legacy-keyless/trusted_root.json` }, NOW_OFFLINE);
    expect(r).toMatchObject({ verified: true, signatures: [expect.objectContaining({ signer: 'mitr@redhat.com' })] });
    await expect(verifyArtifact(repo, subject, policy, NOW_OFFLINE)).rejects.toMatchObject({ code: 'TRUSTED_ROOT_REQUIRED', kind: 'usage', hint: expect.stringContaining('--trusted-root') });
  });

  it('a cosign v3 bundle referrer (as cosign pushes it) verifies offline as what it is: an attestation, never a signature', async () => {
    const repo = await layout();
    await blob(repo, 'application/vnd.docker.container.image.v1+json', readFileSync(`${FX}/cosign-v3-bundle-dsse/subject-config.json`));
    const subject = await subjectFrom(repo, `${FX}/cosign-v3-bundle-dsse/subject-manifest.json`, DOCKER_MANIFEST);
    const empty = await blob(repo, 'application/vnd.oci.empty.v1+json', Buffer.from('{}'));
    const layer = await blob(repo, 'application/vnd.dev.sigstore.bundle.v0.3+json', readFileSync(`${FX}/cosign-v3-bundle-dsse/bundle.sigstore.json`));
    await putJson(repo, undefined, { schemaVersion: 2, mediaType: MANIFEST, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', config: empty, layers: [layer], subject });
    const policy: VerifyPolicy = { provider: 'cosign', certificateIdentityRegexp: '^cody@soyland\\.com$', certificateOidcIssuer: 'https://github.com/login/oauth', trustedRootPath: `${FX}/cosign-v3-bundle-dsse/trusted_root.json` };
    // The vector is `cosign attest` output: cosign stores signatures and attestations under one artifact type and
    // tells them apart by the signed statement's predicate.
    const asSignature = await verifyArtifact(repo, subject, policy, NOW_OFFLINE);
    expect(asSignature).toMatchObject({ verified: false, signatures: [expect.objectContaining({ kind: 'cosign-bundle', verified: false })] });
    expect(asSignature.signatures[0]!.reason).toBe('bundle is an attestation (predicate https://cosign.sigstore.dev/attestation/v1), not a signature: check it with verify --attestation');
    const r = await verifyAttestations(repo, subject, policy, ATTESTATION_V1, NOW_OFFLINE);
    expect(r).toMatchObject({ verified: true, attestations: [expect.objectContaining({ kind: 'cosign-bundle', signer: 'cody@soyland.com' })] });
    const wrong = await verifyAttestations(repo, subject, { ...policy, certificateOidcIssuer: 'https://accounts.google.com' }, ATTESTATION_V1, NOW_OFFLINE);
    expect(wrong.attestations[0]!.reason).toBe('certificate OIDC issuer https://github.com/login/oauth does not match https://accounts.google.com');
  });

  it('an unsigned artifact has no signatures, without needing a trust root', async () => {
    const repo = await layout();
    const subject = await subjectFrom(repo, `${FX}/cosign-legacy-key/image-manifest.json`, DOCKER_MANIFEST);
    const r = await verifyArtifact(repo, subject, { provider: 'cosign', certificateIdentity: 'a', certificateOidcIssuer: 'b' }, NOW_OFFLINE);
    expect(r).toEqual({ digest: subject.digest, verified: false, signatures: [], reason: 'no cosign signatures found' });
  });
});

describe('validatePolicy', () => {
  const pub = `${FX}/cosign-legacy-key/cosign.pub`;
  const cases: [string, VerifyPolicy, string][] = [
    ['nothing', { provider: 'cosign' }, 'POLICY_INCOMPLETE'],
    ['identity without issuer', { provider: 'cosign', certificateIdentity: 'a' }, 'POLICY_INCOMPLETE'],
    ['issuer without identity', { provider: 'cosign', certificateOidcIssuerRegexp: 'a' }, 'POLICY_INCOMPLETE'],
    ['key and identity', { provider: 'cosign', keys: [pub], certificateIdentity: 'a', certificateOidcIssuer: 'b' }, 'POLICY_CONFLICT'],
    ['missing key file', { provider: 'cosign', keys: ['/nonexistent/cosign.pub'] }, 'FILE_UNREADABLE'],
    ['a file that is no key', { provider: 'cosign', keys: [`${FX}/cosign-legacy-key/payload.json`] }, 'KEY_INVALID'],
    ['bad regexp', { provider: 'cosign', certificateIdentityRegexp: '(', certificateOidcIssuer: 'b' }, 'POLICY_INVALID'],
    ['bad trusted root', { provider: 'cosign', keys: [pub], trustedRootPath: pub }, 'TRUSTED_ROOT_INVALID'],
    ['notation without store', { provider: 'notation', trustPolicyPath: `${FX}/notation-jws-oci/trustpolicy.json` }, 'POLICY_INCOMPLETE'],
    ['notation with a key', { provider: 'notation', keys: [pub] }, 'POLICY_CONFLICT'],
    ['cosign with a trust policy', { provider: 'cosign', keys: [pub], trustPolicyPath: 'x' }, 'POLICY_CONFLICT'],
  ];
  for (const [name, policy, code] of cases) {
    it(`rejects ${name} as a usage error (${code})`, () => {
      try {
        validatePolicy(policy);
        expect.unreachable();
      } catch (err) {
        expect(err).toMatchObject({ code, kind: 'usage' });
      }
    });
  }

  it('accepts complete policies', () => {
    expect(() => validatePolicy({ provider: 'cosign', keys: [pub] })).not.toThrow();
    expect(() => validatePolicy({ provider: 'cosign', certificateIdentityRegexp: '.*', certificateOidcIssuer: 'https://x', trustedRootPath: `${FX}/cosign-v3-bundle-dsse/trusted_root.json` })).not.toThrow();
    expect(() => validatePolicy({ provider: 'notation', trustPolicyPath: `${FX}/notation-jws-oci/trustpolicy.json`, trustStorePath: `${FX}/notation-jws-oci/truststore-ca-e2e.crt` })).not.toThrow();
  });
});

describe('sign -> verify on a layout', () => {
  const keyTypes = ['ec', 'ec384', 'rsa', 'ed25519'] as const;
  for (const type of keyTypes) {
    for (const format of ['legacy', 'bundle'] as const) {
      it(`${type} key, ${format} format`, async () => {
        const repo = await layout();
        const subject = await subjectFrom(repo, `${FX}/cosign-legacy-key/image-manifest.json`, DOCKER_MANIFEST);
        const keyPath = generateKey(tmp, `${type}-${format}`, type);
        const pubPath = publicKeyPem(tmp, keyPath, `${type}-${format}`);
        const written = await signArtifact(repo, subject, { keyPath, format, dockerReference: 'example.com/app' });
        expect(written.kind).toBe(format === 'legacy' ? 'cosign-legacy' : 'cosign-bundle');
        const r = await verifyArtifact(repo, subject, cosignKey(pubPath));
        expect(r.verified).toBe(true);
        expect(r.signatures[0]!.reason).toBe(`signed by key ${type}-${format}.pub`);
        const other = publicKeyPem(tmp, generateKey(tmp, `${type}-${format}-other`, type), `${type}-${format}-other`);
        expect((await verifyArtifact(repo, subject, cosignKey(other))).verified).toBe(false);
      });
    }
  }

  it('a keyed bundle whose signature verifies but whose statement names another artifact is rejected', async () => {
    const repo = await layout();
    const subject = await subjectFrom(repo, `${FX}/cosign-legacy-key/image-manifest.json`, DOCKER_MANIFEST);
    const keyPath = generateKey(tmp, 'moved-bundle', 'ec');
    const key = loadPublicKeyFile(publicKeyPem(tmp, keyPath, 'moved-bundle'));
    const { location } = await signArtifact(repo, subject, { keyPath, format: 'bundle' });
    const referrer = JSON.parse((await repo.getManifest(location)).bytes.toString()) as { layers: Descriptor[] };
    const bundle = await repo.fetchBlob(referrer.layers[0]!);
    expect(verifyBundleBlob('s', bundle, { subjectDigest: subject.digest, keys: [key] }).verified).toBe(true);
    const other = `sha256:${'0'.repeat(64)}`;
    expect(verifyBundleBlob('s', bundle, { subjectDigest: other, keys: [key] })).toMatchObject({
      verified: false,
      signer: key.fingerprint,
      reason: `statement subject names ${subject.digest.slice(0, 19)}…, not the artifact`,
    });
  });

  it('a cosign-encrypted key signs (password required); a second signature keeps the first', async () => {
    const repo = await layout();
    const subject = await subjectFrom(repo, `${FX}/cosign-legacy-key/image-manifest.json`, DOCKER_MANIFEST);
    const plainKey = generateKey(tmp, 'enc', 'ec');
    const pub = publicKeyPem(tmp, plainKey, 'enc');
    const encrypted = join(tmp, 'enc-cosign.key');
    writeFileSync(encrypted, encryptCosignKey(createPrivateKey(readFileSync(plainKey)).export({ type: 'pkcs8', format: 'der' }), 'pw'));
    await expect(signArtifact(repo, subject, { keyPath: encrypted })).rejects.toMatchObject({ code: 'KEY_PASSWORD', kind: 'usage' });
    await expect(signArtifact(repo, subject, { keyPath: encrypted, password: 'wrong' })).rejects.toMatchObject({ code: 'KEY_PASSWORD' });
    await signArtifact(repo, subject, { keyPath: encrypted, password: 'pw', annotations: { team: 'a' } });
    const second = generateKey(tmp, 'second', 'rsa');
    const secondPub = publicKeyPem(tmp, second, 'second');
    const { location } = await signArtifact(repo, subject, { keyPath: second });
    const sig = JSON.parse((await repo.getManifest(location)).bytes.toString());
    expect(sig.layers).toHaveLength(2);
    const payload = JSON.parse((await repo.fetchBlob(sig.layers[0])).toString());
    expect(payload).toEqual({
      critical: { identity: { 'docker-reference': repo.displayName }, image: { 'docker-manifest-digest': subject.digest }, type: 'cosign container image signature' },
      optional: { team: 'a' },
    });
    const both = await verifyArtifact(repo, subject, { provider: 'cosign', keys: [pub, secondPub] });
    expect(both.reason).toBe('2 of 2 signatures verified');
    const onlyFirst = await verifyArtifact(repo, subject, cosignKey(pub));
    expect(onlyFirst.reason).toBe('1 of 2 signatures verified');
    expect(onlyFirst.verified).toBe(true);
  });

  it('the known cosign test key (password "hello") signs and verifies', async () => {
    const repo = await layout();
    const subject = await subjectFrom(repo, `${FX}/cosign-legacy-key/image-manifest.json`, DOCKER_MANIFEST);
    const keyPath = new URL('../../fixtures/signing/cosign-encrypted-keys/sigstore-labeled.key', import.meta.url).pathname;
    await signArtifact(repo, subject, { keyPath, password: 'hello', format: 'bundle' });
    const pubPath = join(tmp, 'hello.pub');
    const { loadPrivateKeyFile } = await import('../../src/signing/keys.js');
    const { createPublicKey } = await import('node:crypto');
    writeFileSync(pubPath, createPublicKey(loadPrivateKeyFile(keyPath, 'hello')).export({ type: 'spki', format: 'pem' }));
    expect((await verifyArtifact(repo, subject, cosignKey(pubPath))).verified).toBe(true);
  });
});
