import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predicateTypeOf } from '../../src/signing/attest/predicate.js';
import { cosignTag } from '../../src/oci/referrers.js';
import { attest } from '../../src/ops/attest.js';
import { parseReference, parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository } from '../../src/registry/client.js';
import { closeAllConnections } from '../../src/registry/connection-pool.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { startProxy, type LoopbackProxy } from '../helpers/proxy.js';

/**
 * Promotion with the built CLI between two real registries, production behind htpasswd (reached through the
 * request-recording proxy): a selection of releases copied with a signed and attested one among them, a second
 * run that moves no blob again, a dry run that exits 0 once in sync and 1 on drift, --verify, --no-clobber,
 * --latest, and an air gap through one bundle file.
 */
const USER = 'promoter';
const PASSWORD = 'e2e-promotion-pw';
const staging = useRegistry();
const production = useRegistry({ htpasswd: { username: USER, password: PASSWORD } });
const work = useWorkDir('promotion-e2e-');
let proxy: LoopbackProxy;
let keys: { key: string; pub: string };
const digests: Record<string, string> = {};

const stagingApp = () => `oci://${staging.host}/app`;
const prodApp = (repo = 'app') => `oci://${proxy.host}/${repo}`;
const DEST = () => ['--dest-creds', `${USER}:${PASSWORD}`];

async function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { env: { DOCKER_CONFIG: work.path }, timeoutMs: 120_000 });
}

async function pushRelease(version: string, content = version): Promise<string> {
  const tree = join(work.path, 'trees', content);
  await mkdir(tree, { recursive: true });
  await writeFile(join(tree, 'release.yaml'), `kind: ConfigMap\ndata:\n  version: "${content}"\n`);
  const r = await cli(['push', `${stagingApp()}:${version}`, '--path', tree, ...PROVENANCE, '-o', 'json']);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

type Release = { tag: string; action: string; digest: string; destination: string; signatures?: number; reason?: string; previous?: string };
const actions = (r: CliResult) => Object.fromEntries((JSON.parse(r.stdout) as { releases: Release[] }).releases.map((x) => [x.tag, x.action]));

beforeAll(async () => {
  proxy = await startProxy({ target: production.host });
  const dir = join(work.path, 'keys');
  await mkdir(dir, { recursive: true });
  keys = { key: join(dir, 'cosign.key'), pub: join(dir, 'cosign.pub') };
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keys.key], { stdio: 'pipe' });
  execFileSync('openssl', ['pkey', '-in', keys.key, '-pubout', '-out', keys.pub], { stdio: 'pipe' });
  for (const version of ['1.0.0', '1.1.0', '2.0.0']) digests[version] = await pushRelease(version);
  expect((await cli(['sign', `${stagingApp()}:1.1.0`, '--key', keys.key])).code).toBe(0);
  await attest(parseReference(`${stagingApp()}:1.1.0`), {
    predicate: { predicateType: predicateTypeOf('custom'), predicate: { promoted: true } }, keyPath: keys.key,
  }, { signal: AbortSignal.timeout(60_000), repositoryOptions: {} });
}, 240_000);

afterAll(async () => {
  await closeAllConnections();
  await proxy?.stop();
});

describe('promotion between two registries', () => {
  it('copies a selection with the signed and attested release, then a second run moves no blob and --dry-run exits 0', async () => {
    const drift = await cli(['copy', stagingApp(), prodApp(), '--filter-semver', '^1', '--dry-run', ...DEST(), '-o', 'json']);
    expect(drift.code).toBe(1);
    expect(actions(drift)).toEqual({ '1.1.0': 'would-copy', '1.0.0': 'would-copy' });

    const first = await cli(['copy', stagingApp(), prodApp(), '--filter-semver', '^1', ...DEST(), '-o', 'json']);
    expect(first.stderr).not.toContain('✗');
    expect(first.code).toBe(0);
    expect(actions(first)).toEqual({ '1.1.0': 'copied', '1.0.0': 'copied' });
    const signed = (JSON.parse(first.stdout) as { releases: Release[] }).releases.find((r) => r.tag === '1.1.0');
    expect(signed?.signatures).toBe(2); // the cosign .sig tag and the attestation referrer

    const prod = openRegistryRepository(parseRegistryReference(`oci://${production.host}/app`), { creds: `${USER}:${PASSWORD}`, dockerConfigDir: work.path });
    expect((await prod.resolve(cosignTag(digests['1.1.0']!, '.sig')))).toBeDefined();
    expect((await prod.referrers(digests['1.1.0']!)).map((d) => d.artifactType)).toContain('application/vnd.dev.sigstore.bundle.v0.3+json');

    const synced = await cli(['copy', stagingApp(), prodApp(), '--filter-semver', '^1', '--dry-run', ...DEST()]);
    expect(synced.code).toBe(0);
    expect(synced.stdout).toMatch(/1\.1\.0\s+in-sync/);

    // A new release with 1.1.0's content: its blobs are in production already, and are skipped, never uploaded.
    digests['1.2.0'] = await pushRelease('1.2.0', '1.1.0');
    proxy.reset();
    const second = await cli(['copy', stagingApp(), prodApp(), '--filter-semver', '^1', ...DEST(), '-o', 'json']);
    expect(second.code).toBe(0);
    expect(actions(second)).toEqual({ '1.2.0': 'copied', '1.1.0': 'in-sync', '1.0.0': 'in-sync' });
    const { blobs } = JSON.parse(second.stdout) as { blobs: { copied: number; skipped: number; mounted: number } };
    expect(blobs.copied).toBe(0);
    expect(blobs.skipped).toBeGreaterThanOrEqual(2);
    const blobRequests = proxy.log.filter((r) => r.path.includes('/blobs/'));
    expect(blobRequests.filter((r) => r.method === 'HEAD' && r.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(blobRequests.filter((r) => r.method !== 'HEAD')).toEqual([]);
    expect((await cli(['copy', stagingApp(), prodApp(), '--filter-semver', '^1', '--dry-run', ...DEST()])).code).toBe(0);
  });

  it('mounts blobs between repositories of one registry', async () => {
    const r = await cli(['copy', stagingApp(), `oci://${staging.host}/mirror`, '--all-tags', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).blobs).toMatchObject({ copied: 0, mounted: expect.any(Number) });
    expect(JSON.parse(r.stdout).blobs.mounted).toBeGreaterThan(0);
  });

  it('--verify copies what the key signed and lists the rest (exit 1); --no-clobber keeps a moved tag', async () => {
    const verified = await cli(['copy', stagingApp(), prodApp('verified'), '--filter-regex', '^1\\.[01]\\.', '--verify', '--key', keys.pub, ...DEST(), '-o', 'json']);
    expect(verified.code).toBe(1);
    expect(actions(verified)).toEqual({ '1.1.0': 'copied', '1.0.0': 'failed' });
    expect(verified.stderr).toMatch(/✗ 1\.0\.0 \(sha256:[0-9a-f]{64}\) not copied: /);

    expect((await cli(['copy', `${stagingApp()}:2.0.0`, `${prodApp('kept')}:1.0.0`, ...DEST()])).code).toBe(0);
    const kept = await cli(['copy', stagingApp(), prodApp('kept'), '--filter-semver', '~1.0', '--no-clobber', ...DEST(), '-o', 'json']);
    expect(kept.code).toBe(0);
    expect(actions(kept)).toEqual({ '1.0.0': 'kept' });
    expect(kept.stderr).toContain(`1.0.0 kept at ${digests['2.0.0']}`);
  });

  it('--latest promotes the highest version in a range in one line, printing the digest and every reference', async () => {
    const tagged = await cli(['tag', stagingApp(), '--latest', '--filter-semver', '^1', '--tag', 'stable,candidate']);
    expect(tagged.code).toBe(0);
    expect(tagged.stderr).toContain(`picked ${stagingApp()}:1.2.0 (${digests['1.2.0']})`);
    expect(tagged.stdout.trim().split('\n')).toEqual([
      `${stagingApp()}:stable@${digests['1.2.0']}`,
      `${stagingApp()}:candidate@${digests['1.2.0']}`,
    ]);
    const copied = await cli(['copy', stagingApp(), `${prodApp()}:stable`, '--latest', '--filter-semver', '^1', ...DEST()]);
    expect(copied.code).toBe(0);
    expect(copied.stdout.trim()).toBe(`${prodApp()}:stable@${digests['1.2.0']}`);
    expect(copied.stderr).toContain(`${stagingApp()}:1.2.0@${digests['1.2.0']}`);
  });

  it('air gap in one file: every 1.x release into a bundle, and from it into production', async () => {
    const bundle = join(work.path, 'release.tar.gz');
    const out = await cli(['copy', stagingApp(), `oci-layout://${bundle}`, '--filter-semver', '^1']);
    expect(out.code).toBe(0);
    const into = await cli(['copy', `oci-layout://${bundle}`, prodApp('airgapped'), '--all-tags', ...DEST(), '-o', 'json']);
    expect(into.code).toBe(0);
    expect(actions(into)).toEqual({ '1.2.0': 'copied', '1.1.0': 'copied', '1.0.0': 'copied' });
    const check = await cli(['copy', `oci-layout://${bundle}`, prodApp('airgapped'), '--all-tags', '--dry-run', ...DEST()]);
    expect(check.code).toBe(0);
  });
});
