import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/mediatypes.js';
import { ensureReferrersListed, fallbackTag } from '../../src/oci/referrers.js';
import type { Descriptor, Repository } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { closeAllConnections } from '../../src/registry/connection-pool.js';
import { openRegistryRepository } from '../../src/registry/client.js';
import { runCli } from '../helpers/cli.js';
import { useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { startProxy, type LoopbackProxy, type ProxyAction, type ProxyRequest } from '../helpers/proxy.js';

/**
 * One referrers listing for copy, inspect and verify (Repository.referrers), complete on the registries that
 * split or bend it. Distribution 2.8 has no referrers API, so the proxy in front of it plays the two shapes a
 * hosted registry serves:
 *  - the referrers API in pages of two, each `Link: <…>; rel="next"` to the next (as the distribution spec pages
 *    the tag list; oras-go follows it), built from the fallback index the real registry holds;
 *  - GitLab's answer for the fallback tag (oras-go#1396): it reads `sha256-<hex>` as the digest `sha256:<hex>` and
 *    serves the subject itself, which must be read as "no referrers", not as a list of its children.
 */
const registry = useRegistry();
const work = useWorkDir('referrers-listing-');
let proxy: LoopbackProxy;
let mode: 'paging' | 'gitlab' | 'plain' = 'paging';
const PAGE = 2;

beforeAll(async () => {
  proxy = await startProxy({
    target: registry.host,
    onRequest: (req) => (mode === 'paging' ? pageReferrers(req) : mode === 'gitlab' ? gitlabFallback(req) : undefined),
  });
});
afterAll(async () => {
  await closeAllConnections();
  await proxy?.stop();
});
beforeEach(() => proxy.reset());

const REFERRERS = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})(?:\?(.*))?$/;
const FALLBACK_TAG = /^\/v2\/(.+)\/manifests\/sha256-([0-9a-f]{64})$/;

/** The referrers API as a registry with it answers, in pages: the listing is the fallback index the registry holds. */
async function pageReferrers(req: ProxyRequest): Promise<ProxyAction | undefined> {
  const match = REFERRERS.exec(req.path);
  if (match === null || req.method !== 'GET') return undefined;
  const [, name, subject, query] = match as unknown as [string, string, string, string | undefined];
  const answer = await fetch(`${registry.url}/v2/${name}/manifests/${fallbackTag(subject)}`, { headers: { accept: MediaType.OciIndex } });
  const all = answer.status === 200 ? ((await answer.json()) as { manifests: Descriptor[] }).manifests : [];
  const start = Number(new URLSearchParams(query ?? '').get('start') ?? 0);
  const page = all.slice(start, start + PAGE);
  const headers: Record<string, string> = { 'content-type': MediaType.OciIndex };
  if (start + PAGE < all.length) headers.link = `</v2/${name}/referrers/${subject}?start=${start + PAGE}>; rel="next"`;
  return { kind: 'respond', status: 200, headers, body: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: page }) };
}

/** GitLab: no referrers API (Distribution's 404 stays), and reading the fallback tag reads the subject's digest. */
function gitlabFallback(req: ProxyRequest): ProxyAction | undefined {
  const match = FALLBACK_TAG.exec(req.path);
  return match === null || (req.method !== 'GET' && req.method !== 'HEAD') ? undefined : { kind: 'forward', path: `/v2/${match[1]}/manifests/sha256:${match[2]}` };
}

function open(name: string, host = proxy.host): Repository {
  return openRegistryRepository(parseRegistryReference(`oci://${host}/${name}`), { retry: { retries: 0 } });
}

async function pushJson(repo: Repository, reference: string | undefined, mediaType: string, value: object): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = digestOf(bytes);
  await repo.putManifest(reference ?? digest, bytes, mediaType);
  return { mediaType, digest, size: bytes.length };
}

/** An image manifest with one small layer; `subject` makes it a referrer. */
async function pushManifest(repo: Repository, reference: string | undefined, layer: string, extra: { artifactType?: string; subject?: Descriptor } = {}): Promise<Descriptor> {
  const config = Buffer.from('{}');
  const content = Buffer.from(layer);
  const configDesc = { mediaType: MediaType.OciEmpty, digest: digestOf(config), size: config.length };
  const layerDesc = { mediaType: 'text/plain', digest: digestOf(content), size: content.length };
  await repo.pushBlob(configDesc, config);
  await repo.pushBlob(layerDesc, content);
  const descriptor = await pushJson(repo, reference, MediaType.OciManifest, { schemaVersion: 2, mediaType: MediaType.OciManifest, ...extra, config: configDesc, layers: [layerDesc] });
  return extra.artifactType === undefined ? descriptor : { ...descriptor, artifactType: extra.artifactType };
}

const referrerPages = (subject: string) => proxy.log.filter((r) => r.method === 'GET' && r.path.includes(`/referrers/${subject}`));

describe('referrers API pages', () => {
  it('reads every page the Link headers name, and copy and inspect see all referrers', async () => {
    mode = 'paging';
    const direct = open('paged/src', registry.host);
    const subject = await pushManifest(direct, 'v1', 'the artifact');
    const referrers: Descriptor[] = [];
    for (let i = 0; i < 5; i++) referrers.push(await pushManifest(direct, undefined, `sbom ${i}`, { artifactType: 'application/vnd.example.sbom', subject }));
    await ensureReferrersListed(direct, subject.digest, referrers);
    const all = referrers.map((r) => r.digest).sort();

    const listed = await open('paged/src').referrers(subject.digest);
    expect(listed.map((d) => d.digest).sort()).toEqual(all);
    expect(referrerPages(subject.digest).map((r) => r.path)).toEqual([
      `/v2/paged/src/referrers/${subject.digest}`,
      `/v2/paged/src/referrers/${subject.digest}?start=2`,
      `/v2/paged/src/referrers/${subject.digest}?start=4`,
    ]);
    // The API answered, so the fallback tag was never asked for.
    expect(proxy.log.filter((r) => r.path.endsWith(fallbackTag(subject.digest)))).toEqual([]);

    const inspected = await runCli(['inspect', `oci://${proxy.host}/paged/src:v1`, '-o', 'json']);
    expect(inspected.stderr).not.toContain('✗');
    expect(inspected.code).toBe(0);
    expect((JSON.parse(inspected.stdout).referrers as { digest: string }[]).map((r) => r.digest).sort()).toEqual(all);

    const copied = await runCli(['copy', `oci://${proxy.host}/paged/src:v1`, `oci://${proxy.host}/paged/dst`, '-o', 'json']);
    expect(copied.code).toBe(0);
    expect(JSON.parse(copied.stdout).signatures).toBe(5);
    expect((await open('paged/dst').referrers(subject.digest)).map((d) => d.digest).sort()).toEqual(all);
  });
});

describe('GitLab-style fallback tag that resolves to the subject (oras-go#1396)', () => {
  it('is no referrers list: an index subject\'s children are not its referrers, in the listing, inspect and copy', async () => {
    mode = 'gitlab';
    const direct = open('gitlab/src', registry.host);
    const amd64 = await pushManifest(direct, undefined, 'amd64 content');
    const arm64 = await pushManifest(direct, undefined, 'arm64 content');
    const subject = await pushJson(direct, 'v1', MediaType.OciIndex, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [amd64, arm64] });
    // The premise: through the proxy, the fallback tag answers with the subject itself.
    expect((await open('gitlab/src').getManifest(fallbackTag(subject.digest))).digest).toBe(subject.digest);

    expect(await open('gitlab/src').referrers(subject.digest)).toEqual([]);

    const inspected = await runCli(['inspect', `oci://${proxy.host}/gitlab/src:v1`, '-o', 'json']);
    expect(inspected.code).toBe(0);
    expect(JSON.parse(inspected.stdout).referrers).toEqual([]);

    const copied = await runCli(['copy', `oci://${proxy.host}/gitlab/src:v1`, `oci://${registry.host}/gitlab/dst`, '-o', 'json']);
    expect(copied.stderr).not.toContain('✗');
    expect(copied.code).toBe(0);
    expect(JSON.parse(copied.stdout).signatures).toBe(0);
    // No referrers index was written for the copy: the children were copied as children, nothing more.
    expect(await open('gitlab/dst', registry.host).listTags()).toEqual(['v1']);
  });

  it('adding a referrer there starts a new index instead of extending the subject\'s own list of children', async () => {
    mode = 'gitlab';
    const direct = open('gitlab/add', registry.host);
    const child = await pushManifest(direct, undefined, 'only platform');
    const subject = await pushJson(direct, 'v1', MediaType.OciIndex, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [child] });
    const referrer = await pushManifest(direct, undefined, 'sig', { artifactType: 'application/vnd.example.sig', subject });

    expect(await ensureReferrersListed(open('gitlab/add'), subject.digest, [referrer])).toEqual([referrer.digest]);
    // What was written at the real fallback tag lists the referrer alone.
    const written = await direct.getManifest(fallbackTag(subject.digest), { accept: [MediaType.OciIndex] });
    expect((JSON.parse(written.bytes.toString('utf8')) as { manifests: Descriptor[] }).manifests.map((d) => d.digest)).toEqual([referrer.digest]);
  });
});

describe('adding to the fallback index (a registry without the referrers API, as Distribution 2.8)', () => {
  it('reads the index once per bundle signature: the listing\'s read is the one added to', async () => {
    mode = 'plain';
    const direct = open('plain/app', registry.host);
    const subject = await pushManifest(direct, 'v1', 'signed content');
    const key = join(work.path, 'cosign.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], { stdio: 'pipe' });
    const indexPath = `/v2/plain/app/manifests/${fallbackTag(subject.digest)}`;
    // The first signature starts the index, the second extends it: each reads it once and writes it once.
    for (const count of [1, 2]) {
      proxy.reset();
      const signed = await runCli(['sign', `oci://${proxy.host}/plain/app:v1`, '--key', key, '--format', 'bundle']);
      expect(signed.code, signed.stderr).toBe(0);
      const atIndex = proxy.log.filter((r) => r.path === indexPath).map((r) => `${r.method} ${r.status}`);
      expect(atIndex).toEqual([count === 1 ? 'GET 404' : 'GET 200', 'PUT 201']);
      expect(await direct.referrers(subject.digest)).toHaveLength(count);
    }
  });
});
