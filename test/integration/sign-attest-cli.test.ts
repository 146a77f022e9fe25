import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCert, generateKey, publicKeyPem } from '../../fixtures/signing/generate.js';
import type { ImageManifest } from '../../src/oci/types.js';
import { copy } from '../../src/ops/copy.js';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { parseReference } from '../../src/ref/reference.js';
import { pushReferrer } from '../../src/signing/referrer.js';
import { runCli } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, resolveTag, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/** notation signing, attest, verify --attestation and push --provenance through the built CLI, on the real registry. */
const registry = useRegistry();
const work = useWorkDir('oci-artifact-sign-attest-');
const oci = (repo: string, tag = 'v1') => `oci://${registry.host}/${repo}:${tag}`;
const SLSA1 = 'https://slsa.dev/provenance/v1';

async function pushFixture(repo: string, extra: string[] = [], env?: Record<string, string>): Promise<string> {
  const r = await runCli(['push', oci(repo), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '-o', 'json', ...extra], { env });
  expect(r.stderr).not.toContain('✗');
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

function notationFiles(name: string) {
  const cert = generateCert(work.path, { name, subject: `/C=US/O=Tests/CN=${name}`, days: 2 });
  const policy = join(work.path, `${name}-trustpolicy.json`);
  writeFileSync(policy, JSON.stringify({ version: '1.0', trustPolicies: [{ name: 'strict', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:tests'], trustedIdentities: [`x509.subject: C=US, O=Tests, CN=${name}`] }] }));
  return { cert, verifyArgs: ['--provider', 'notation', '--trust-policy', policy, '--trust-store', cert.certPath] };
}

describe('sign --format notation', () => {
  it('JWS and COSE signatures verify under a strict trust policy; another trust store fails with exit 1', async () => {
    const digest = await pushFixture('cli/notation');
    const { cert, verifyArgs } = notationFiles('notation-signer');
    const jws = await runCli(['sign', oci('cli/notation'), '--format', 'notation', '--key', cert.keyPath, '--cert', cert.certPath, '-o', 'json']);
    expect(jws.stderr).toContain('✔ signed');
    expect(jws.code).toBe(0);
    expect(JSON.parse(jws.stdout)).toMatchObject({ digest, kind: 'notation-jws' });
    const cose = await runCli(['sign', oci('cli/notation'), '--format', 'notation', '--key', cert.keyPath, '--cert', cert.certPath, '--signature-format', 'cose', '--expiry', '24h']);
    expect(cose.code).toBe(0);

    const ok = await runCli(['verify', oci('cli/notation'), ...verifyArgs]);
    expect(ok.stderr).toMatch(/✔ notation-jws/);
    expect(ok.stderr).toMatch(/✔ notation-cose/);
    expect(ok.stderr).toContain('2 of 2 signatures verified');
    expect(ok.code).toBe(0);
    const other = notationFiles('someone-else');
    const bad = await runCli(['verify', oci('cli/notation'), ...other.verifyArgs]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('certificate chain does not include a certificate of the trust store');
  });

  it('a tampered envelope fails verification with exit 1', async () => {
    await pushFixture('cli/notation-src');
    const { cert, verifyArgs } = notationFiles('tamper-signer');
    expect((await runCli(['sign', oci('cli/notation-src'), '--format', 'notation', '--key', cert.keyPath, '--cert', cert.certPath])).code).toBe(0);
    // The same artifact in another repository, without its signature; then the signature with one byte changed.
    const ctx = { signal: AbortSignal.timeout(60_000), repositoryOptions: {} };
    const copied = await copy({ source: parseReference(oci('cli/notation-src')), destination: parseReference(oci('cli/notation-tampered')), includeSignatures: false }, ctx);
    const src = await openRepository(parseReference(oci('cli/notation-src')), {});
    const dst = await openRepository(parseReference(oci('cli/notation-tampered')), {});
    try {
      const [referrer] = await src.referrers(copied.digest);
      const manifest = JSON.parse((await src.getManifest(referrer!.digest)).bytes.toString()) as ImageManifest;
      const envelope = JSON.parse((await src.fetchBlob(manifest.layers[0]!, {})).toString()) as Record<string, string>;
      const payload = Buffer.from(envelope.payload!, 'base64url');
      payload[payload.indexOf('sha256:') + 10]! ^= 1;
      const tampered = Buffer.from(JSON.stringify({ ...envelope, payload: payload.toString('base64url') }));
      await pushReferrer(dst, { artifactType: manifest.artifactType!, layer: { mediaType: manifest.layers[0]!.mediaType, bytes: tampered }, subject: manifest.subject!, annotations: manifest.annotations! });
    } finally {
      await src.close();
      await dst.close();
    }
    const r = await runCli(['verify', oci('cli/notation-tampered'), ...verifyArgs]);
    expect(r.stderr).toContain('signature does not match the signing certificate');
    expect(r.stderr).toContain('verification failed');
    expect(r.code).toBe(1);
  });

  it('refuses a certificate that is not for the key, in one line with exit 2, writing nothing', async () => {
    const digest = await pushFixture('cli/notation-refused');
    const a = notationFiles('refused-a');
    const b = notationFiles('refused-b');
    const r = await runCli(['sign', oci('cli/notation-refused'), '--format', 'notation', '--key', a.cert.keyPath, '--cert', b.cert.certPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not for the signing key');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await resolveTag(oci('cli/notation-refused', `sha256-${digest.slice(7)}`))).toBeUndefined();
  });
});

describe('attest and verify --attestation', () => {
  it('round trip with a key: -o json prints the predicate; another key fails with exit 1', async () => {
    const digest = await pushFixture('cli/attest');
    const key = generateKey(work.path, 'attest-key', 'ec');
    const pub = publicKeyPem(work.path, key, 'attest-key');
    const predicate = { bomFormat: 'CycloneDX', specVersion: '1.5', components: [] };
    const file = join(work.path, 'sbom.cdx.json');
    writeFileSync(file, JSON.stringify(predicate));
    const a = await runCli(['attest', oci('cli/attest'), '--predicate', file, '--type', 'cyclonedx', '--key', key]);
    expect(a.stderr).toContain('✔ attested');
    expect(a.code).toBe(0);

    const v = await runCli(['verify', oci('cli/attest'), '--attestation', 'cyclonedx', '--key', pub, '-o', 'json']);
    expect(v.code).toBe(0);
    const report = JSON.parse(v.stdout) as { digest: string; verified: boolean; predicateType: string; attestations: Array<{ predicate: unknown }> };
    expect(report).toMatchObject({ digest, verified: true, predicateType: 'https://cyclonedx.org/bom' });
    expect(report.attestations[0]!.predicate).toEqual(predicate);

    const otherKey = publicKeyPem(work.path, generateKey(work.path, 'attest-other', 'ec'), 'attest-other');
    const bad = await runCli(['verify', oci('cli/attest'), '--attestation', 'cyclonedx', '--key', otherKey]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('verification failed');
    const none = await runCli(['verify', oci('cli/attest'), '--attestation', 'spdx', '--key', pub]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no https://spdx.dev/Document attestations found');

    const inspect = await runCli(['inspect', oci('cli/attest')]);
    expect(inspect.stdout).toMatch(/attestation\s+https:\/\/cyclonedx\.org\/bom\s+sha256:/);
  });
});

const GITHUB_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/deploy',
  GITHUB_WORKFLOW_REF: 'acme/deploy/.github/workflows/release.yml@refs/tags/v1.0.0',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_SHA: 'c'.repeat(40),
  GITHUB_REF: 'refs/tags/v1.0.0',
};

describe('push --provenance', () => {
  it('attaches a SLSA v1 provenance of the GitHub Actions run whose subject is the pushed digest', async () => {
    const key = generateKey(work.path, 'provenance-key', 'ec');
    const pub = publicKeyPem(work.path, key, 'provenance-key');
    const digest = await pushFixture('cli/provenance', ['--provenance', '--sign', '--key', key], GITHUB_ENV);
    const v = await runCli(['verify', `oci://${registry.host}/cli/provenance@${digest}`, '--attestation', 'slsaprovenance1', '--key', pub, '-o', 'json']);
    expect(v.code).toBe(0);
    const report = JSON.parse(v.stdout) as { digest: string; attestations: Array<{ predicateType: string; predicate: { buildDefinition: { resolvedDependencies: unknown[]; externalParameters: unknown }; runDetails: { metadata: unknown } } }> };
    expect(report.digest).toBe(digest);
    const [att] = report.attestations;
    expect(att!.predicateType).toBe(SLSA1);
    expect(att!.predicate.buildDefinition.externalParameters).toEqual({ workflow: { ref: 'refs/tags/v1.0.0', repository: 'https://github.com/acme/deploy', path: '.github/workflows/release.yml' } });
    expect(att!.predicate.buildDefinition.resolvedDependencies).toEqual([{ uri: 'git+https://github.com/acme/deploy@refs/tags/v1.0.0', digest: { gitCommit: 'c'.repeat(40) } }]);
    expect(att!.predicate.runDetails.metadata).toEqual({ invocationId: 'https://github.com/acme/deploy/actions/runs/4242/attempts/1' });
    // The signature made in the same run verifies too.
    expect((await runCli(['verify', `oci://${registry.host}/cli/provenance@${digest}`, '--key', pub])).code).toBe(0);
  });

  it('outside CI it stops before pushing, in one line with exit 2', async () => {
    const key = generateKey(work.path, 'provenance-nowhere', 'ec');
    const r = await runCli(['push', oci('cli/provenance-nowhere'), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--provenance', '--sign', '--key', key]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--provenance describes a CI run, and no GitHub Actions or GitLab CI environment was found');
    expect(await resolveTag(oci('cli/provenance-nowhere'))).toBeUndefined();
  });
});
