import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRepository } from '../../src/ops/support/open-repository.js';
import type { Descriptor, Repository } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseReference } from '../../src/ref/reference.js';
import { signArtifact, verifyArtifact } from '../../src/signing/index.js';
import { generateKey, publicKeyPem } from '../../fixtures/signing/generate.js';
import { pushSmallArtifact } from '../helpers/fixtures.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { SIGNATURE_VECTORS } from '../helpers/vectors.js';

const FX = SIGNATURE_VECTORS;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let registry: TestRegistry;
let tmp: string;
const repos: Repository[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  tmp = mkdtempSync(join(tmpdir(), 'signing-registry-'));
});
afterAll(async () => {
  await Promise.all(repos.map((r) => r.close()));
  await registry?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function open(name: string): Promise<Repository> {
  const repo = await openRepository(parseReference(`oci://${registry.host}/${name}`), { insecure: true });
  repos.push(repo);
  return repo;
}

function keypair(name: string, type: 'ec' | 'rsa' | 'ed25519' = 'ec'): { key: string; pub: string } {
  const key = generateKey(tmp, name, type);
  return { key, pub: publicKeyPem(tmp, key, name) };
}

describe('sign -> verify against the CNCF Distribution registry', () => {
  it('legacy .sig signatures: signed, found by tag, verified; another key fails', async () => {
    const repo = await open('signing/legacy');
    const subject = await pushSmallArtifact(repo);
    const a = keypair('reg-legacy-a');
    const written = await signArtifact(repo, subject, { keyPath: a.key, dockerReference: `${registry.host}/signing/legacy` });
    expect(written).toEqual({ kind: 'cosign-legacy', location: `sha256-${subject.digest.slice(7)}.sig` });
    expect(await repo.listTags()).toContain(written.location);
    const r = await verifyArtifact(repo, subject, { provider: 'cosign', keys: [a.pub] });
    expect(r).toMatchObject({ verified: true, reason: '1 of 1 signature verified' });
    expect((await verifyArtifact(repo, subject, { provider: 'cosign', keys: [keypair('reg-legacy-b').pub] })).verified).toBe(false);
  });

  it('bundles are found through the fallback index (this registry has no referrers API)', async () => {
    const repo = await open('signing/bundle');
    const subject = await pushSmallArtifact(repo);
    const a = keypair('reg-bundle-a', 'ed25519');
    const b = keypair('reg-bundle-b', 'rsa');
    const first = await signArtifact(repo, subject, { keyPath: a.key, format: 'bundle' });
    const second = await signArtifact(repo, subject, { keyPath: b.key, format: 'bundle' });
    expect(first.kind).toBe('cosign-bundle');
    expect(first.location).toMatch(/^sha256:[0-9a-f]{64}$/);
    const index = JSON.parse((await repo.getManifest(`sha256-${subject.digest.slice(7)}`)).bytes.toString());
    expect(index.manifests.map((m: Descriptor) => m.digest)).toEqual([first.location, second.location].sort());
    expect(index.manifests.every((m: Descriptor) => m.artifactType === 'application/vnd.dev.sigstore.bundle.v0.3+json')).toBe(true);
    const referrer = JSON.parse((await repo.getManifest(first.location)).bytes.toString());
    expect(referrer).toMatchObject({ artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', subject, config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2 } });
    const r = await verifyArtifact(repo, subject, { provider: 'cosign', keys: [a.pub, b.pub] });
    expect(r.reason).toBe('2 of 2 signatures verified');
    expect(r.signatures.map((s) => s.source).sort()).toEqual([first.location, second.location].sort());
  });

  it('without the fallback index a referrer is invisible to a registry without the referrers API', async () => {
    const repo = await open('signing/nofallback');
    const subject = await pushSmallArtifact(repo);
    const { key, pub } = keypair('reg-nofallback');
    const signedElsewhere = await open('signing/scratch');
    const scratchSubject = await pushSmallArtifact(signedElsewhere);
    const { location } = await signArtifact(signedElsewhere, scratchSubject, { keyPath: key, format: 'bundle' });
    // Copy only the referrer manifest (rewritten to name this subject) and its blobs: no fallback tag.
    const manifest = JSON.parse((await signedElsewhere.getManifest(location)).bytes.toString());
    for (const d of [manifest.config, ...manifest.layers] as Descriptor[]) await repo.pushBlob(d, await signedElsewhere.fetchBlob(d));
    const bytes = Buffer.from(JSON.stringify({ ...manifest, subject }));
    await repo.putManifest(digestOf(bytes), bytes, MANIFEST);
    const r = await verifyArtifact(repo, subject, { provider: 'cosign', keys: [pub] });
    expect(r).toMatchObject({ verified: false, reason: 'no cosign signatures found' });
  });

  it('notation: the e2e layout copied to the registry verifies through its fallback index', async () => {
    const repo = await open('signing/notation');
    const layoutDir = `${FX}/notation-jws-oci/oci-layout`;
    const index = JSON.parse(readFileSync(`${layoutDir}/index.json`, 'utf8')) as { manifests: Array<Descriptor & { annotations?: Record<string, string> }> };
    const manifestDigests = new Set(index.manifests.map((m) => m.digest));
    for (const file of readdirSync(`${layoutDir}/blobs/sha256`)) {
      if (manifestDigests.has(`sha256:${file}`)) continue;
      const bytes = readFileSync(`${layoutDir}/blobs/sha256/${file}`);
      await repo.pushBlob({ mediaType: 'application/octet-stream', digest: `sha256:${file}`, size: bytes.length }, bytes);
    }
    for (const m of index.manifests) {
      const bytes = readFileSync(`${layoutDir}/blobs/sha256/${m.digest.slice(7)}`);
      await repo.putManifest(m.annotations?.['org.opencontainers.image.ref.name'] ?? m.digest, bytes, m.mediaType);
    }
    const subject = (await repo.resolve('v1'))!;
    const r = await verifyArtifact(repo, subject, {
      provider: 'notation',
      trustPolicyPath: `${FX}/notation-jws-oci/trustpolicy.json`,
      trustStorePath: `${FX}/notation-jws-oci/truststore-ca-e2e.crt`,
    });
    expect(r).toMatchObject({ verified: true, signatures: [expect.objectContaining({ kind: 'notation-jws', signer: 'C=US, ST=WA, L=Seattle, O=Notary, CN=e2e' })] });
  });
});
