import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotation, MediaType } from '../../src/oci/mediatypes.js';
import { cosignTag, ensureReferrersListed } from '../../src/oci/referrers.js';
import type { Descriptor, Repository } from '../../src/oci/types.js';
import { MAX_GRAPH_MANIFESTS } from '../../src/ops/support/copy-graph.js';
import { createLimiter } from '../../src/ops/support/limit.js';
import { digestOf } from '../../src/ref/digest.js';
import { MAX_LEGACY_SIGNATURE_LAYERS, MAX_SIGNATURE_REFERRERS } from '../../src/signing/discovery.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository } from '../../src/registry/client.js';
import { closeAllConnections } from '../../src/registry/connection-pool.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { startProxy, type LoopbackProxy } from '../helpers/proxy.js';

/**
 * Graphs a hostile registry or artifact can build that are valid to push (an index listing one child many times,
 * very many distinct children, deep nesting, a signature manifest with thousands of layers, hundreds of signature
 * referrers, JSON nested thousands deep), pushed into the real registry; the CLI copies or verifies them through the request-recording proxy,
 * so the work it does is counted, not guessed.
 */

const registry = useRegistry();
const work = useWorkDir('oci-artifact-hostile-graphs-');
let proxy: LoopbackProxy;
let publicKey: string;

beforeAll(async () => {
  proxy = await startProxy({ target: registry.host });
  const privateKey = join(work.path, 'cosign.key');
  publicKey = join(work.path, 'cosign.pub');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', privateKey]);
  execFileSync('openssl', ['pkey', '-in', privateKey, '-pubout', '-out', publicKey]);
});

afterAll(async () => {
  await closeAllConnections();
  await proxy?.stop();
});

function registryRepo(name: string): Repository {
  return openRegistryRepository(parseRegistryReference(`oci://${registry.host}/${name}`));
}

/** Upload `content` as a blob of `mediaType`; its descriptor. */
async function putBlob(repo: Repository, mediaType: string, content: string): Promise<Descriptor> {
  const bytes = Buffer.from(content);
  const descriptor: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.length };
  await repo.pushBlob(descriptor, bytes);
  return descriptor;
}

/** One image manifest (shared config, one layer of `content`), stored by digest. */
async function putLeaf(repo: Repository, content: string): Promise<Descriptor> {
  const configDesc = await putBlob(repo, MediaType.OciEmpty, '{}');
  const layerDesc = await putBlob(repo, 'text/plain', content);
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: [layerDesc] }));
  const digest = await repo.putManifest(digestOf(bytes), bytes, MediaType.OciManifest);
  return { mediaType: MediaType.OciManifest, digest, size: bytes.length };
}

/** An image index over `children` (repeats kept), stored under `tag` or by digest. */
async function putIndex(repo: Repository, children: Descriptor[], tag?: string): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: children }));
  const digest = await repo.putManifest(tag ?? digestOf(bytes), bytes, MediaType.OciIndex);
  return { mediaType: MediaType.OciIndex, digest, size: bytes.length };
}

function errorLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('✗'));
}

function expectOneLineFailure(r: CliResult, exit: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(exit);
  expect(errorLines(r), r.stderr).toHaveLength(1);
  expect(errorLines(r)[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('copy of hostile index graphs', () => {
  it('visits each distinct manifest once: an index listing one child 20 times, 3 levels deep', async () => {
    const src = registryRepo('graph/repeat');
    const leaf = await putLeaf(src, 'the only content');
    const level1 = await putIndex(src, Array(20).fill(leaf));
    const level2 = await putIndex(src, Array(20).fill(level1));
    const root = await putIndex(src, Array(20).fill(level2), 'v1');

    proxy.reset();
    const r = await runCli(['copy', `oci://${proxy.host}/graph/repeat:v1`, `oci://${proxy.host}/graph/repeat-copy:v1`], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);

    const count = (method: string, path: string) => proxy.log.filter((q) => q.method === method && q.path.split('?')[0] === path).length;
    const manifestPath = (repo: string, ref: string) => `/v2/${repo}/manifests/${ref}`;
    // Each manifest of the source fetched once (the root by tag), each stored once at the destination.
    expect(count('GET', manifestPath('graph/repeat', 'v1'))).toBe(1);
    for (const child of [level2, level1, leaf]) {
      expect(count('GET', manifestPath('graph/repeat', child.digest))).toBe(1);
      expect(count('PUT', manifestPath('graph/repeat-copy', child.digest))).toBe(1);
    }
    expect(count('PUT', manifestPath('graph/repeat-copy', 'v1'))).toBe(1);
    // Two blobs (config, layer): each checked or mounted at most once.
    const blobRequests = proxy.log.filter((q) => q.path.includes('/blobs/'));
    expect(blobRequests.length, blobRequests.map((q) => `${q.method} ${q.path}`).join('\n')).toBeLessThanOrEqual(4);
    expect(proxy.log.length).toBeLessThan(20);
    expect((await registryRepo('graph/repeat-copy').getManifest('v1')).digest).toBe(root.digest);
  });

  it(`refuses an index graph of more than ${MAX_GRAPH_MANIFESTS} distinct manifests in one line, exit 3`, async () => {
    const src = registryRepo('graph/wide');
    const config = Buffer.from('{}');
    const configDesc: Descriptor = { mediaType: MediaType.OciEmpty, digest: digestOf(config), size: config.length };
    await src.pushBlob(configDesc, config);
    // Distinct manifests without layers (only their annotation differs), pushed a few at a time.
    const push = createLimiter(8);
    const leaves = await Promise.all(Array.from({ length: MAX_GRAPH_MANIFESTS + 1 }, (_, i) => push(async (): Promise<Descriptor> => {
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: [], annotations: { n: String(i) } }));
      return { mediaType: MediaType.OciManifest, digest: await src.putManifest(digestOf(bytes), bytes, MediaType.OciManifest), size: bytes.length };
    })));
    await putIndex(src, leaves, 'v1');

    proxy.reset();
    const r = await runCli(['copy', `oci://${proxy.host}/graph/wide:v1`, `oci://${proxy.host}/graph/wide-copy:v1`], { timeoutMs: 120_000 });
    expectOneLineFailure(r, 3, new RegExp(`more than ${MAX_GRAPH_MANIFESTS} distinct manifests`));
    // Refused from the root's listing, before fetching any child; the root was never stored.
    expect(proxy.log.filter((q) => q.method === 'GET' && q.path.includes('/manifests/')).map((q) => q.path)).toEqual(['/v2/graph/wide/manifests/v1']);
    expect(await registryRepo('graph/wide-copy').resolve('v1')).toBeUndefined();
  });

  it('refuses indexes nested deeper than 8 levels in one line, exit 3, before storing the root', async () => {
    const src = registryRepo('graph/deep');
    let node = await putLeaf(src, 'deep content');
    for (let level = 0; level < 10; level++) node = await putIndex(src, [node], level === 9 ? 'v1' : undefined);

    const r = await runCli(['copy', `oci://${registry.host}/graph/deep:v1`, `oci://${registry.host}/graph/deep-copy:v1`]);
    expectOneLineFailure(r, 3, /image indexes nest deeper than 8 levels/);
    expect(await registryRepo('graph/deep-copy').resolve('v1')).toBeUndefined();
  });
});

describe('verify of hostile signature graphs', () => {
  it('refuses a legacy .sig manifest of 3000 layers in one line, exit 3, without fetching its layers', async () => {
    const repo = registryRepo('sig/many-layers');
    const subject = await putLeaf(repo, 'signed content');
    await repo.putManifest('v1', (await repo.getManifest(subject.digest)).bytes, MediaType.OciManifest);
    const payloadDesc = await putBlob(repo, MediaType.CosignSimpleSigning, '{"critical":{}}');
    const configDesc = await putBlob(repo, MediaType.OciConfig, '{}');
    const layer = { ...payloadDesc, annotations: { [Annotation.CosignSignature]: Buffer.from('not a signature').toString('base64') } };
    const sig = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: Array(3000).fill(layer) }));
    await repo.putManifest(cosignTag(subject.digest, '.sig'), sig, MediaType.OciManifest);

    proxy.reset();
    const r = await runCli(['verify', `oci://${proxy.host}/sig/many-layers:v1`, '--key', publicKey], { timeoutMs: 120_000 });
    expectOneLineFailure(r, 3, new RegExp(`has 3000 layers; at most ${MAX_LEGACY_SIGNATURE_LAYERS} are read`));
    expect(proxy.log.filter((q) => q.path.includes('/blobs/'))).toEqual([]);
    expect(proxy.log.length).toBeLessThan(10);
  });

  it(`refuses more than ${MAX_SIGNATURE_REFERRERS} signature referrers in one line, exit 3, without fetching them`, async () => {
    const repo = registryRepo('sig/many-referrers');
    const subject = await putLeaf(repo, 'signed content');
    await repo.putManifest('v1', (await repo.getManifest(subject.digest)).bytes, MediaType.OciManifest);
    const bundleDesc = await putBlob(repo, MediaType.SigstoreBundle, '{}');
    const emptyDesc = await putBlob(repo, MediaType.OciEmpty, '{}');
    const push = createLimiter(8);
    const referrers = await Promise.all(Array.from({ length: MAX_SIGNATURE_REFERRERS + 1 }, (_, i) => push(async (): Promise<Descriptor> => {
      const bytes = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: MediaType.OciManifest, artifactType: MediaType.SigstoreBundle, config: emptyDesc, layers: [bundleDesc],
        subject, annotations: { n: String(i) },
      }));
      const digest = await repo.putManifest(digestOf(bytes), bytes, MediaType.OciManifest);
      return { mediaType: MediaType.OciManifest, digest, size: bytes.length, artifactType: MediaType.SigstoreBundle };
    })));
    await ensureReferrersListed(repo, subject.digest, referrers);

    proxy.reset();
    const r = await runCli(['verify', `oci://${proxy.host}/sig/many-referrers:v1`, '--key', publicKey], { timeoutMs: 120_000 });
    expectOneLineFailure(r, 3, new RegExp(`lists ${MAX_SIGNATURE_REFERRERS + 1} referrers of ${subject.digest} that may be cosign-bundle signatures; at most ${MAX_SIGNATURE_REFERRERS} are read`));
    expect(proxy.log.filter((q) => referrers.some((d) => q.path.endsWith(d.digest)))).toEqual([]);
  });
});

describe('manifests nesting JSON thousands deep', () => {
  it.each(['json', 'yaml', 'table'])('inspect -o %s refuses one in one line, exit 3, printing nothing', async (format) => {
    const repo = registryRepo('deep/json');
    const leaf = await putLeaf(repo, 'deep json');
    const manifest = JSON.parse((await repo.getManifest(leaf.digest)).bytes.toString('utf8')) as Record<string, unknown>;
    // 5,000 levels: the real registry (Go's encoding/json allows 10,000) stores it; JSON.stringify overflows at a few thousand.
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const bytes = Buffer.from(`${JSON.stringify(manifest).slice(0, -1)},"x":${deep}}`);
    await repo.putManifest('v1', bytes, MediaType.OciManifest);

    const r = await runCli(['inspect', `oci://${registry.host}/deep/json:v1`, '-o', format]);
    expectOneLineFailure(r, 3, /the manifest is invalid: it nests arrays and objects more than 64 levels deep/);
    expect(r.stdout).toBe('');
  });
});
