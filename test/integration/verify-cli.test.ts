import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptCosignKey } from '../../src/signing/index.js';
import { ROOT, runCli, snapshotTree, tempDir } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { SIGNATURE_VECTORS } from '../helpers/vectors.js';

/** sign, verify, pull --verify and push --sign through the CLI, against the real registry and the shared vectors. */
const FIXTURE = join(ROOT, 'fixtures', 'kustomize');
const VECTORS = SIGNATURE_VECTORS;
const PROVENANCE = ['--source', 'https://example.invalid/r', '--revision', 'main@sha1:0123456789abcdef0123456789abcdef01234567'];
const KEY_PASSWORD = 'canary-key-password-91b2';

let registry: TestRegistry;
let work: { path: string; remove(): Promise<void> };
const keys: Record<string, string> = {};

beforeAll(async () => {
  registry = await startRegistry();
  work = await tempDir('oci-artifact-verify-');
  for (const name of ['signer', 'other']) {
    keys[`${name}.key`] = join(work.path, `${name}.key`);
    keys[`${name}.pub`] = join(work.path, `${name}.pub`);
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keys[`${name}.key`] as string]);
    execFileSync('openssl', ['pkey', '-in', keys[`${name}.key`] as string, '-pubout', '-out', keys[`${name}.pub`] as string]);
  }
  const der = execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-outform', 'DER', '-in', keys['signer.key'] as string]);
  keys['encrypted.key'] = join(work.path, 'encrypted.key');
  await writeFile(keys['encrypted.key'], encryptCosignKey(der, KEY_PASSWORD));
});
afterAll(async () => {
  await registry?.stop();
  await work?.remove();
});

const ref = (repo: string, tag = 'v1') => `oci://${registry.host}/${repo}:${tag}`;

async function pushed(repo: string): Promise<string> {
  const r = await runCli(['push', ref(repo), '-f', FIXTURE, ...PROVENANCE]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('sign and verify', () => {
  it.each(['legacy', 'bundle'])('round-trips the %s format and refuses another key', async (format) => {
    await pushed(`signed-${format}`);
    const signed = await runCli(['sign', ref(`signed-${format}`), '--key', keys['signer.key'] as string, '--format', format]);
    expect(signed.stderr).not.toContain('✗');
    expect(signed.code).toBe(0);

    const ok = await runCli(['verify', ref(`signed-${format}`), '--key', keys['signer.pub'] as string, '-o', 'json']);
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report.verified).toBe(true);
    expect(report.signatures.some((s: { verified: boolean; kind: string }) => s.verified && s.kind === (format === 'legacy' ? 'cosign-legacy' : 'cosign-bundle'))).toBe(true);

    const wrong = await runCli(['verify', ref(`signed-${format}`), '--key', keys['other.pub'] as string]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/✗ verification failed/);
  });

  it('keeps existing signatures when signing again', async () => {
    await pushed('twice');
    for (const key of ['signer.key', 'other.key']) expect((await runCli(['sign', ref('twice'), '--key', keys[key] as string])).code).toBe(0);
    for (const pub of ['signer.pub', 'other.pub']) expect((await runCli(['verify', ref('twice'), '--key', keys[pub] as string])).code).toBe(0);
  });

  it('signs with a cosign encrypted key, the password from COSIGN_PASSWORD, never printed', async () => {
    await pushed('encrypted');
    const noPassword = await runCli(['sign', ref('encrypted'), '--key', keys['encrypted.key'] as string]);
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/COSIGN_PASSWORD/);
    const wrong = await runCli(['sign', ref('encrypted'), '--key', keys['encrypted.key'] as string], { env: { COSIGN_PASSWORD: `${KEY_PASSWORD}x` } });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr + wrong.stdout).not.toContain(KEY_PASSWORD);
    const r = await runCli(['sign', ref('encrypted'), '--key', keys['encrypted.key'] as string, '--verbose'], { env: { COSIGN_PASSWORD: KEY_PASSWORD } });
    expect(r.code).toBe(0);
    expect(r.stderr + r.stdout).not.toContain(KEY_PASSWORD);
    expect((await runCli(['verify', ref('encrypted'), '--key', keys['signer.pub'] as string])).code).toBe(0);
  });

  it('fails with exit 1 and says so when there are no signatures', async () => {
    await pushed('unsigned');
    const r = await runCli(['verify', ref('unsigned'), '--key', keys['signer.pub'] as string]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no .*signatures found/i);
  });

  it('rejects incomplete keyless flags as a usage error', async () => {
    const r = await runCli(['verify', ref('unsigned'), '--certificate-identity', 'me@example.com']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('✗'))).toHaveLength(1);
  });

  it('push --sign signs the pushed digest in the same run', async () => {
    const r = await runCli(['push', ref('push-sign'), '-f', FIXTURE, ...PROVENANCE, '--sign', '--key', keys['signer.key'] as string]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('signed');
    expect((await runCli(['verify', ref('push-sign'), '--key', keys['signer.pub'] as string])).code).toBe(0);
  });
});

describe('pull --verify', () => {
  it('refuses an unsigned or wrongly signed artifact and leaves the output as it was', async () => {
    await pushed('pv-unsigned');
    const out = join(work.path, 'pv-out');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'keep');
    const before = await snapshotTree(out);
    const unsigned = await runCli(['pull', ref('pv-unsigned'), '-o', out, '--verify', '--key', keys['signer.pub'] as string]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/nothing was written/);
    expect(await snapshotTree(out)).toEqual(before);

    await pushed('pv-signed');
    expect((await runCli(['sign', ref('pv-signed'), '--key', keys['other.key'] as string])).code).toBe(0);
    const wrongKey = await runCli(['pull', ref('pv-signed'), '-o', out, '--verify', '--key', keys['signer.pub'] as string]);
    expect(wrongKey.code).toBe(1);
    expect(await snapshotTree(out)).toEqual(before);

    const good = await runCli(['pull', ref('pv-signed'), '-o', out, '--verify', '--key', keys['other.pub'] as string]);
    expect(good.code).toBe(0);
    expect(await readFile(join(out, 'base', 'kustomization.yaml'), 'utf8')).toContain('kind: Kustomization');
  });
});

describe('real vectors through the CLI', () => {
  it('verifies the notation JWS vector from an OCI layout and fails with another trust store', async () => {
    const layout = join(work.path, 'notation-jws');
    await cp(join(VECTORS, 'notation-jws-oci', 'oci-layout'), layout, { recursive: true });
    const subject = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
    const args = ['verify', `oci-layout://${layout}@${subject}`, '--provider', 'notation', '--trust-policy', join(VECTORS, 'notation-jws-oci', 'trustpolicy.json')];
    const ok = await runCli([...args, '--trust-store', join(VECTORS, 'notation-jws-oci', 'truststore-ca-e2e.crt')]);
    expect(ok.stderr).toMatch(/✔ notation-jws/);
    expect(ok.code).toBe(0);
    const bad = await runCli([...args, '--trust-store', join(VECTORS, 'notation-cose-oci', 'truststore-ca-alpine.crt')]);
    expect(bad.code).toBe(1);
  });
});
