import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLayoutRepository } from '../../src/layout/repository.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import type { RequestLog } from '../../src/ops/support/open-repository.js';
import { addToFallbackIndex, cosignTag, fallbackTag } from '../../src/oci/referrers.js';
import type { Descriptor, Repository, TransferProgress } from '../../src/oci/types.js';
import { copy } from '../../src/ops/copy.js';
import type { OpContext } from '../../src/ops/support/context.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseLayoutReference, parseReference, parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository } from '../../src/registry/client.js';
import { runCli, snapshotTree } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';

const registry = useRegistry();
const work = useWorkDir('oci-artifact-copy-');

const oci = (repo: string, tag = 'v1') => `oci://${registry.host}/${repo}${tag === '' ? '' : `:${tag}`}`;
const layout = (name: string, tag = '') => `oci-layout://${join(work.path, name)}${tag === '' ? '' : `:${tag}`}`;

function context(onRequest?: (log: RequestLog) => void): OpContext {
  return { signal: AbortSignal.timeout(60_000), repositoryOptions: { onRequest } };
}

function registryRepo(repo: string): Repository {
  return openRegistryRepository(parseRegistryReference(oci(repo, '')));
}

async function pushFixture(repo: string, tag = 'v1'): Promise<string> {
  const r = await runCli(['push', oci(repo, tag), '--path', KUSTOMIZE_FIXTURE, ...PROVENANCE, '-o', 'json']);
  expect(r.stderr).not.toContain('✗');
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

/** A small image manifest with one layer, pushed with the Repository API (blobs first, then the manifest). */
async function putManifest(
  repo: Repository,
  reference: string | undefined,
  fields: { artifactType?: string; configType?: string; layer: string; layerType?: string; subject?: Descriptor; annotations?: Record<string, string> },
): Promise<Descriptor> {
  const config = Buffer.from('{}');
  const layer = Buffer.from(fields.layer);
  const configDesc: Descriptor = { mediaType: fields.configType ?? MediaType.OciEmpty, digest: digestOf(config), size: config.length };
  const layerDesc: Descriptor = { mediaType: fields.layerType ?? 'text/plain', digest: digestOf(layer), size: layer.length };
  await repo.pushBlob(configDesc, config);
  await repo.pushBlob(layerDesc, layer);
  const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.OciManifest };
  if (fields.artifactType) manifest.artifactType = fields.artifactType;
  manifest.config = configDesc;
  manifest.layers = [layerDesc];
  if (fields.subject) manifest.subject = fields.subject;
  if (fields.annotations) manifest.annotations = fields.annotations;
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = digestOf(bytes);
  await repo.putManifest(reference ?? digest, bytes, MediaType.OciManifest);
  return { mediaType: MediaType.OciManifest, digest, size: bytes.length, ...(fields.artifactType ? { artifactType: fields.artifactType } : {}) };
}

async function fallbackEntries(repo: Repository, subject: string): Promise<Descriptor[]> {
  const fetched = await repo.getManifest(fallbackTag(subject), { accept: [MediaType.OciIndex] });
  return (JSON.parse(fetched.bytes.toString('utf8')) as { manifests: Descriptor[] }).manifests;
}

describe('copy between registries and layouts', () => {
  it('registry -> layout -> another repository keeps the digest and the files extract identically', async () => {
    const digest = await pushFixture('copy/origin');
    const toLayout = await runCli(['copy', oci('copy/origin'), layout('hop'), '-o', 'json']);
    expect(toLayout.stderr).not.toContain('✗');
    expect(toLayout.code).toBe(0);
    const first = JSON.parse(toLayout.stdout);
    expect(first).toMatchObject({ digest, tag: 'v1', blobs: { copied: 2, skipped: 0, mounted: 0 }, signatures: 0 });
    expect(first.destination).toBe(`${layout('hop', 'v1')}@${digest}`);

    // The layout on disk is a plain OCI layout with the same manifest bytes under the tag.
    const index = JSON.parse(await readFile(join(work.path, 'hop', 'index.json'), 'utf8'));
    expect(index.manifests).toContainEqual(expect.objectContaining({ digest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }));

    const toRegistry = await runCli(['copy', layout('hop', 'v1'), oci('copy/mirror', '')]);
    expect(toRegistry.code).toBe(0);
    expect(toRegistry.stdout.trim()).toBe(`${oci('copy/mirror', 'v1')}@${digest}`);
    expect((await registryRepo('copy/mirror').resolve('v1'))?.digest).toBe(digest);

    const a = join(work.path, 'out-origin');
    const b = join(work.path, 'out-mirror');
    expect((await runCli(['pull', oci('copy/origin'), '-o', a])).code).toBe(0);
    expect((await runCli(['pull', oci('copy/mirror'), '-o', b])).code).toBe(0);
    const expected = await snapshotTree(a);
    expect(Object.keys(expected)).toContain('base/kustomization.yaml');
    expect(await snapshotTree(b)).toEqual(expected);
  });

  it('skips blobs the destination has: a second copy uploads nothing', async () => {
    await pushFixture('skip/src');
    const first = await copy({ source: parseReference(oci('skip/src')), destination: parseReference(oci('skip/dst')) }, context());
    expect(first.blobs).toEqual({ copied: 0, skipped: 0, mounted: 2 });

    const requests: string[] = [];
    const again = await copy(
      { source: parseReference(oci('skip/src')), destination: parseReference(oci('skip/dst')) },
      context((log) => requests.push(`${log.method} ${new URL(log.url, 'http://x').pathname}`)),
    );
    expect(again.blobs).toEqual({ copied: 0, skipped: 2, mounted: 0 });
    expect(requests.filter((r) => r.includes('/blobs/') && !r.startsWith('HEAD'))).toEqual([]);

    // Into a layout, a repeated copy writes no blob either.
    const dst = parseLayoutReference(layout('skip-layout'));
    expect((await copy({ source: parseReference(oci('skip/src')), destination: dst }, context())).blobs).toEqual({ copied: 2, skipped: 0, mounted: 0 });
    expect((await copy({ source: parseReference(oci('skip/src')), destination: dst }, context())).blobs).toEqual({ copied: 0, skipped: 2, mounted: 0 });
  });

  it('carries a cosign .sig tag and an OCI referrer along; the fallback index at the destination lists the referrer', async () => {
    const src = registryRepo('attached/src');
    const subject = await putManifest(src, 'v1', { layer: 'the artifact', layerType: MediaType.FluxContent, configType: MediaType.FluxConfig });
    const sig = await putManifest(src, cosignTag(subject.digest, '.sig'), { layer: 'signature payload', layerType: MediaType.CosignSimpleSigning, configType: MediaType.OciConfig });
    const referrer = await putManifest(src, undefined, { artifactType: 'application/vnd.example.sbom', layer: 'sbom', subject });
    // The registry has no referrers API: a writer lists the referrer in the fallback index, as oras and cosign do.
    await addToFallbackIndex(src, subject.digest, [referrer]);
    expect((await src.referrers(subject.digest)).map((d) => d.digest)).toEqual([referrer.digest]);

    // registry -> layout: the layout finds the referrer by its subject, no fallback index needed.
    const hop = parseLayoutReference(layout('attached-hop'));
    const toLayout = await copy({ source: parseReference(oci('attached/src')), destination: hop }, context());
    expect(toLayout.signatures).toBe(2);
    const layoutRepo = await openLayoutRepository(hop);
    expect((await layoutRepo.resolve(cosignTag(subject.digest, '.sig')))?.digest).toBe(sig.digest);
    expect((await layoutRepo.referrers(subject.digest)).map((d) => d.digest)).toEqual([referrer.digest]);
    expect(await layoutRepo.resolve(fallbackTag(subject.digest))).toBeUndefined();

    // layout -> a registry without the referrers API: the referrer is stored by digest and listed in the fallback index.
    const dst = registryRepo('attached/dst');
    // Something else is already attached at the destination: the copy merges instead of replacing.
    const other = await putManifest(dst, undefined, { artifactType: 'application/vnd.example.other', layer: 'other', subject });
    await addToFallbackIndex(dst, subject.digest, [other]);

    const toRegistry = await copy({ source: parseReference(`${layoutOf(hop)}:v1`), destination: parseReference(oci('attached/dst')) }, context());
    expect(toRegistry.digest).toBe(subject.digest);
    expect(toRegistry.signatures).toBe(2);
    expect((await dst.resolve('v1'))?.digest).toBe(subject.digest);
    expect((await dst.resolve(cosignTag(subject.digest, '.sig')))?.digest).toBe(sig.digest);
    expect((await dst.resolve(referrer.digest))?.digest).toBe(referrer.digest);
    const entries = await fallbackEntries(dst, subject.digest);
    expect(entries.map((e) => e.digest)).toEqual([referrer.digest, other.digest].sort());
    expect(entries.find((e) => e.digest === referrer.digest)).toMatchObject({
      mediaType: MediaType.OciManifest, size: referrer.size, artifactType: 'application/vnd.example.sbom',
    });

    // Copying again changes nothing: the fallback index keeps the same bytes.
    const before = (await dst.getManifest(fallbackTag(subject.digest))).digest;
    await copy({ source: parseReference(`${layoutOf(hop)}:v1`), destination: parseReference(oci('attached/dst')) }, context());
    expect((await dst.getManifest(fallbackTag(subject.digest))).digest).toBe(before);
  });

  it('leaves signatures behind with --no-include-signatures', async () => {
    const src = registryRepo('nosig/src');
    const subject = await putManifest(src, 'v1', { layer: 'artifact', layerType: MediaType.FluxContent });
    await putManifest(src, cosignTag(subject.digest, '.sig'), { layer: 'sig', layerType: MediaType.CosignSimpleSigning });
    const r = await runCli(['copy', oci('nosig/src'), oci('nosig/dst'), '--no-include-signatures', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).signatures).toBe(0);
    expect(await registryRepo('nosig/dst').listTags()).toEqual(['v1']);
  });

  it('copies a signed artifact registry -> layout -> registry and the signatures verify at the destination', async () => {
    const keys = join(work.path, 'keys');
    execFileSync('mkdir', ['-p', keys]);
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(keys, 'cosign.key')], { stdio: 'pipe' });
    execFileSync('openssl', ['pkey', '-in', join(keys, 'cosign.key'), '-pubout', '-out', join(keys, 'cosign.pub')], { stdio: 'pipe' });
    const digest = await pushFixture('signed/src');
    for (const format of ['legacy', 'bundle']) {
      const signed = await runCli(['sign', oci('signed/src'), '--key', join(keys, 'cosign.key'), '--format', format]);
      expect(signed.stderr).not.toContain('✗');
      expect(signed.code).toBe(0);
    }
    expect((await runCli(['copy', oci('signed/src'), layout('signed-hop')])).code).toBe(0);
    const last = await runCli(['copy', layout('signed-hop', 'v1'), oci('signed/dst', 'prod'), '-o', 'json']);
    expect(last.code).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({ digest, tag: 'prod', signatures: 2 });

    const verified = await runCli(['verify', oci('signed/dst', 'prod'), '--key', join(keys, 'cosign.pub'), '-o', 'json']);
    expect(verified.stderr).not.toContain('✗');
    expect(verified.code).toBe(0);
    const report = JSON.parse(verified.stdout);
    expect(report.verified).toBe(true);
    expect(report.signatures.map((s: { kind: string; verified: boolean }) => [s.kind, s.verified]).sort()).toEqual([
      ['cosign-bundle', true],
      ['cosign-legacy', true],
    ]);
  });

  it('copies an image index with its child manifests, keeping every digest', async () => {
    const src = registryRepo('index/src');
    const a = await putManifest(src, undefined, { layer: 'amd64 content', layerType: MediaType.OciLayerTar });
    const b = await putManifest(src, undefined, { layer: 'arm64 content', layerType: MediaType.OciLayerTar });
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        { ...a, platform: { os: 'linux', architecture: 'amd64' } },
        { ...b, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    }));
    const indexDigest = await src.putManifest('multi', index, MediaType.OciIndex);

    const hop = parseLayoutReference(layout('index-hop'));
    const first = await copy({ source: parseReference(oci('index/src', 'multi')), destination: hop }, context());
    expect(first).toMatchObject({ digest: indexDigest, mediaType: MediaType.OciIndex, blobs: { copied: 3, skipped: 0, mounted: 0 } });
    const result = await copy({ source: parseReference(`${layoutOf(hop)}@${indexDigest}`), destination: parseReference(oci('index/dst', 'multi')) }, context());
    expect(result.digest).toBe(indexDigest);
    const dst = registryRepo('index/dst');
    expect((await dst.getManifest('multi')).bytes.equals(index)).toBe(true);
    expect((await dst.getManifest(a.digest)).digest).toBe(a.digest);
    expect((await dst.getManifest(b.digest)).digest).toBe(b.digest);
  });

  it('streams a blob larger than one upload chunk through a layout, reporting progress', async () => {
    const src = registryRepo('large/src');
    const big = randomBytes(20 * 1024 * 1024 + 123);
    const subject = await putManifest(src, 'v1', { layer: 'small', layerType: MediaType.OciLayerTar });
    const manifest = JSON.parse((await src.getManifest(subject.digest)).bytes.toString('utf8'));
    const bigDesc: Descriptor = { mediaType: MediaType.OciLayerTar, digest: digestOf(big), size: big.length };
    await src.pushBlob(bigDesc, big);
    const bytes = Buffer.from(JSON.stringify({ ...manifest, layers: [...manifest.layers, bigDesc] }));
    await src.putManifest('big', bytes, MediaType.OciManifest);

    const events: TransferProgress[] = [];
    const ctx = { ...context(), onProgress: (e: TransferProgress) => events.push(e) };
    const hop = parseLayoutReference(layout('large-hop'));
    await copy({ source: parseReference(oci('large/src', 'big')), destination: hop }, ctx);
    const result = await copy({ source: parseReference(`${layoutOf(hop)}:big`), destination: parseReference(oci('large/dst', 'big')) }, ctx);
    expect(result.blobs).toEqual({ copied: 3, skipped: 0, mounted: 0 });
    const dst = registryRepo('large/dst');
    expect(await dst.hasBlob(bigDesc.digest)).toBe(true);
    const back = await dst.fetchBlob(bigDesc, { maxBytes: big.length });
    expect(back.equals(big)).toBe(true);
    const uploads = events.filter((e) => e.direction === 'upload' && e.digest === bigDesc.digest);
    expect(uploads.at(-1)).toMatchObject({ bytes: big.length, done: true });
  });

  it('refuses a destination digest that is not the source digest, in one line', async () => {
    await pushFixture('pinned/src');
    const wrong = `sha256:${'0'.repeat(64)}`;
    const r = await runCli(['copy', oci('pinned/src'), `${oci('pinned/dst', 'v1')}@${wrong}`]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('✗'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`names digest ${wrong}`);
    expect(await registryRepo('pinned/dst').resolve('v1')).toBeUndefined();
  });

  it('reports a missing source tag and a bad reference in one line each', async () => {
    await pushFixture('missing/src');
    const missing = await runCli(['copy', oci('missing/src', 'nope'), layout('missing')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim().split('\n').filter((l) => l.startsWith('✗'))).toHaveLength(1);
    expect(missing.stderr).toMatch(/✗ .*nope/);
    expect(missing.stderr).toContain(`oci://${registry.host}/missing/src has no tag 'nope'`);
    await expect(stat(join(work.path, 'missing'))).rejects.toThrow(); // no empty layout left behind

    const bad = await runCli(['copy', 'oci://Bad/Repo:v1', layout('bad')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^✗ invalid reference 'oci:\/\/Bad\/Repo:v1'/m);
    expect(bad.stdout).toBe('');
  });
});

function layoutOf(ref: { path: string; tag?: string }): string {
  return `oci-layout://${ref.path}${ref.tag ? `:${ref.tag}` : ''}`;
}
