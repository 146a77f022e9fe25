import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cosignTag } from '../../src/oci/referrers.js';
import type { Repository } from '../../src/oci/types.js';
import { copy } from '../../src/ops/copy.js';
import { copyReleases, type CopyReleasesOptions, type ReleaseOutcome } from '../../src/ops/copy-releases.js';
import type { OpContext } from '../../src/ops/support/context.js';
import type { RequestLog } from '../../src/ops/support/open-repository.js';
import { tag } from '../../src/ops/tag.js';
import { parseReference, parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository } from '../../src/registry/client.js';
import { runCli } from '../helpers/cli.js';
import { PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * Copying many releases at once (ops/copy-releases.ts) between two real registries, the destination behind
 * htpasswd auth: selection as `list` makes it, in-sync detection, --no-clobber, --verify, dry runs, signatures
 * carried, and blobs skipped or mounted instead of moved again.
 */
const USER = 'promoter';
const PASSWORD = 'promotion-secret';
const staging = useRegistry();
const production = useRegistry({ htpasswd: { username: USER, password: PASSWORD } });
const work = useWorkDir('copy-releases-');

const src = (repo: string) => parseReference(`oci://${staging.host}/${repo}`);
const dst = (repo: string) => parseReference(`oci://${production.host}/${repo}`);

function context(onRequest?: (log: RequestLog) => void): OpContext {
  return {
    signal: AbortSignal.timeout(120_000),
    repositoryOptions: { onRequest, dockerConfigDir: work.path } as OpContext['repositoryOptions'],
    sides: { source: {}, destination: { creds: `${USER}:${PASSWORD}` } },
  };
}

function productionRepo(repo: string): Repository {
  return openRegistryRepository(parseRegistryReference(`oci://${production.host}/${repo}`), { creds: `${USER}:${PASSWORD}`, dockerConfigDir: work.path });
}

const summary = (releases: ReleaseOutcome[]) => Object.fromEntries(releases.map((r) => [r.tag, r.action]));

let keys: { key: string; pub: string };
const digests: Record<string, string> = {};

/** A release whose content differs per version (its own manifest, config and layer), pushed to staging. */
async function pushRelease(repo: string, version: string, content = version): Promise<string> {
  const tree = join(work.path, 'trees', content);
  await mkdir(tree, { recursive: true });
  await writeFile(join(tree, 'release.yaml'), `kind: ConfigMap\ndata:\n  version: "${content}"\n`);
  const r = await runCli(['push', `oci://${staging.host}/${repo}:${version}`, '--path', tree, ...PROVENANCE, '-o', 'json']);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

beforeAll(async () => {
  const dir = join(work.path, 'keys');
  await mkdir(dir, { recursive: true });
  keys = { key: join(dir, 'cosign.key'), pub: join(dir, 'cosign.pub') };
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keys.key], { stdio: 'pipe' });
  execFileSync('openssl', ['pkey', '-in', keys.key, '-pubout', '-out', keys.pub], { stdio: 'pipe' });
  for (const version of ['1.0.0', '1.1.0', '1.2.0', '2.0.0', 'dev']) digests[version] = await pushRelease('app', version);
  const signed = await runCli(['sign', `oci://${staging.host}/app:1.2.0`, '--key', keys.key]);
  expect(signed.code).toBe(0);
}, 180_000);

describe('copy of many releases', () => {
  it('copies the newest N in a semver range with their signatures; a dry run then reports them in sync', async () => {
    const options: CopyReleasesOptions = { source: src('app'), destination: dst('promoted'), semver: '>=1.0.0 <2.0.0', limit: 2 };
    const result = await copyReleases(options, context());
    expect(summary(result.releases)).toEqual({ '1.2.0': 'copied', '1.1.0': 'copied' });
    expect(result.releases[0]).toMatchObject({ digest: digests['1.2.0'], destination: `oci://${production.host}/promoted:1.2.0@${digests['1.2.0']}`, signatures: 1 });
    const repo = productionRepo('promoted');
    expect((await repo.listTags()).sort()).toEqual(['1.1.0', '1.2.0', cosignTag(digests['1.2.0']!, '.sig')].sort());

    const dry = await copyReleases({ ...options, dryRun: true }, context());
    expect(summary(dry.releases)).toEqual({ '1.2.0': 'in-sync', '1.1.0': 'in-sync' });
    // Widening the selection shows the drift, and writes nothing.
    const wider = await copyReleases({ ...options, limit: undefined, semver: '>=1.0.0', dryRun: true }, context());
    expect(summary(wider.releases)).toEqual({ '2.0.0': 'would-copy', '1.2.0': 'in-sync', '1.1.0': 'in-sync', '1.0.0': 'would-copy' });
    expect(await repo.resolve('2.0.0')).toBeUndefined();

  });

  it('a signature added at the source after the copy is drift: the dry run says so, the copy carries it', async () => {
    await pushRelease('drift', '1.0.0');
    const options: CopyReleasesOptions = { source: src('drift'), destination: dst('drift'), allTags: true };
    expect(summary((await copyReleases(options, context())).releases)).toEqual({ '1.0.0': 'copied' });
    const signed = await runCli(['sign', `oci://${staging.host}/drift:1.0.0`, '--key', keys.key, '--format', 'bundle']);
    expect(signed.code, signed.stderr).toBe(0);
    const drift = await copyReleases({ ...options, dryRun: true }, context());
    expect(drift.releases).toMatchObject([{ tag: '1.0.0', action: 'would-copy', signatures: 1 }]);
    await copyReleases(options, context());
    expect(summary((await copyReleases({ ...options, dryRun: true }, context())).releases)).toEqual({ '1.0.0': 'in-sync' });
  });

  it('a second run moves no blob again: in-sync releases are not walked, a new release skips what is there', async () => {
    const options: CopyReleasesOptions = { source: src('app'), destination: dst('second'), regex: '^1\\.' };
    const first = await copyReleases(options, context());
    expect(first.blobs.copied).toBeGreaterThan(0);

    // A new release with the same content as 1.2.0: its config and layer are at the destination already.
    digests['1.3.0'] = await pushRelease('app', '1.3.0', '1.2.0');
    const requests: string[] = [];
    const again = await copyReleases(options, context((log) => requests.push(`${log.method} ${new URL(log.url, 'http://x').pathname}`)));
    expect(summary(again.releases)).toEqual({ '1.3.0': 'copied', '1.2.0': 'in-sync', '1.1.0': 'in-sync', '1.0.0': 'in-sync' });
    expect(again.blobs).toEqual({ copied: 0, skipped: expect.any(Number), mounted: 0 });
    expect(again.blobs.skipped).toBeGreaterThanOrEqual(2);
    // No blob was uploaded (no upload session), and nothing read a blob from staging.
    expect(requests.filter((r) => /\/blobs\/uploads\//.test(r))).toEqual([]);
    expect(requests.filter((r) => r.startsWith('GET') && r.includes('/blobs/'))).toEqual([]);
  });

  it('looks up cosign signature tags in the listed tags: only one that exists is fetched, none is probed', async () => {
    const options: CopyReleasesOptions = { source: src('app'), destination: dst('cosign-lookup'), regex: '^1\\.' };
    const requests: string[] = [];
    const first = await copyReleases(options, context((log) => requests.push(`${log.method} ${log.url}`)));
    expect(first.releases.length).toBeGreaterThanOrEqual(3);
    // Of the .sig, .att and .sbom tags of every release, only 1.2.0's signature exists at the source.
    const cosignReads = requests.filter((r) => r.includes(`//${staging.host}/`) && /\/manifests\/sha256-[0-9a-f]{64}\.(sig|att|sbom)$/.test(r));
    expect(cosignReads).toEqual([`GET http://${staging.host}/v2/app/manifests/${cosignTag(digests['1.2.0']!, '.sig')}`]);
    expect(first.releases.find((r) => r.tag === '1.2.0')?.signatures).toBe(1);
  });

  it('--no-clobber keeps a destination tag that points elsewhere, and says so', async () => {
    await copy({ source: parseReference(`oci://${staging.host}/app:2.0.0`), destination: parseReference(`oci://${production.host}/clobber:1.0.0`) }, context());
    const result = await copyReleases({ source: src('app'), destination: dst('clobber'), semver: '1.0.0 - 1.1.0', noClobber: true }, context());
    expect(summary(result.releases)).toEqual({ '1.1.0': 'copied', '1.0.0': 'kept' });
    expect(result.releases.find((r) => r.tag === '1.0.0')).toMatchObject({ previous: digests['2.0.0'], digest: digests['1.0.0'] });
    expect((await productionRepo('clobber').resolve('1.0.0'))?.digest).toBe(digests['2.0.0']);
  });

  it('--verify copies only what passes the signature policy and lists the rest as failed', async () => {
    const result = await copyReleases({ source: src('app'), destination: dst('verified'), semver: '1.0.0 - 1.2.0', verify: { provider: 'cosign', keys: [keys.pub] } }, context());
    expect(summary(result.releases)).toEqual({ '1.2.0': 'copied', '1.1.0': 'failed', '1.0.0': 'failed' });
    expect(result.releases.find((r) => r.tag === '1.1.0')?.reason).toMatch(/no signature/i);
    expect((await productionRepo('verified').listTags()).filter((t) => !t.startsWith('sha256-'))).toEqual(['1.2.0']);
  });

  it('between repositories of one registry, blobs are mounted', async () => {
    const result = await copyReleases({ source: src('app'), destination: src('mirror'), allTags: true }, context());
    expect(summary(result.releases)).toMatchObject({ dev: 'copied', '2.0.0': 'copied' });
    expect(result.blobs.copied).toBe(0);
    expect(result.blobs.mounted).toBeGreaterThan(0);
  });

  it('refuses a tagged reference, --all-tags with a filter, and a bad range before any request', async () => {
    await expect(copyReleases({ source: parseReference(`oci://${staging.host}/app:1.0.0`), destination: dst('x'), allTags: true }, context())).rejects.toMatchObject({ kind: 'usage' });
    await expect(copyReleases({ source: src('app'), destination: dst('x'), allTags: true, semver: '^1' }, context())).rejects.toMatchObject({ code: 'FLAG_CONFLICT' });
    await expect(copyReleases({ source: src('app'), destination: dst('x'), semver: 'not a range' }, context())).rejects.toMatchObject({ code: 'SEMVER_RANGE_INVALID' });
  });
});

describe('promotion in one line (--latest)', () => {
  it('copy and tag pick the highest version in a range as the source', async () => {
    const copied = await copy({ source: src('app'), destination: parseReference(`oci://${production.host}/latest:stable`), latest: { semver: '^1' } }, context());
    expect(copied.digest).toBe(digests['1.3.0'] ?? digests['1.2.0']);
    expect(copied.source).toMatch(/\/app:1\.[23]\.0@sha256:/);

    const tagged = await tag({ source: src('app'), tags: ['candidate'], latest: { semver: '<2' } }, { signal: AbortSignal.timeout(60_000), repositoryOptions: {} });
    expect(tagged.digest).toBe(copied.digest);
    expect(tagged.tagged.map((t) => t.url)).toEqual([`oci://${staging.host}/app:candidate@${copied.digest}`]);

    await expect(tag({ source: src('app'), tags: ['x'], latest: { semver: '>=9' } }, { signal: AbortSignal.timeout(60_000), repositoryOptions: {} }))
      .rejects.toMatchObject({ code: 'NO_TAG_MATCHES', kind: 'usage' });
  });
});
