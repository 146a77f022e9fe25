import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/mediatypes.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository } from '../../src/registry/client.js';
import { runCli, snapshotTree } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { startProxy, type LoopbackProxy } from '../helpers/proxy.js';

/**
 * Issue 15 item 5: a registry that refuses Flux's media types, played by a proxy in front of the real registry that
 * answers a manifest PUT naming a Flux type exactly as GitLab's registry does (flux2#3724). push falls back once to
 * the standard OCI types and says so; pull, diff, inspect and verify read what it pushed.
 */
const registry = useRegistry();
const work = useWorkDir('oci-artifact-media-types-');
let proxy: LoopbackProxy;

const GITLAB_REFUSAL = (type: string) => JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid', detail: `unknown media type: ${type}` }] });

beforeAll(async () => {
  proxy = await startProxy({
    target: registry.host,
    onRequest: async (req) => {
      if (req.method !== 'PUT' || !/\/manifests\//.test(req.path)) return undefined;
      const manifest = JSON.parse((await req.body()).toString('utf8')) as { config: { mediaType: string }; layers: { mediaType: string }[] };
      // GitLab checks the config type first, then each layer's against its allowlist.
      const refused = [manifest.config.mediaType, ...manifest.layers.map((l) => l.mediaType)].find((t) => t.startsWith('application/vnd.cncf.flux.'));
      if (refused === undefined) return undefined;
      return { kind: 'respond', status: 400, headers: { 'content-type': 'application/json; charset=utf-8' }, body: GITLAB_REFUSAL(refused) };
    },
  });
});
afterAll(async () => {
  await proxy?.stop();
});

/** The fixture as pushed: its .sourceignore leaves drafts/ out, Flux's default ignore rules the image in docs/. */
const pushedTree = async () => {
  const all = await snapshotTree(KUSTOMIZE_FIXTURE);
  return Object.fromEntries(Object.entries(all).filter(([path]) => !/^drafts\/|\.png$/.test(path)));
};
const viaProxy = (repo: string, tag = 'v1') => `oci://${proxy.host}/${repo}:${tag}`;
const manifestPuts = () => proxy.log.filter((e) => e.method === 'PUT' && e.path.includes('/manifests/')).map((e) => e.status);
const blobUploads = () => proxy.log.filter((e) => e.method === 'POST' && e.path.includes('/blobs/uploads/')).length;

async function storedManifest(repo: string, tag: string): Promise<{ config: { mediaType: string }; layers: { mediaType: string }[] }> {
  const client = openRegistryRepository(parseRegistryReference(`oci://${registry.host}/${repo}`));
  try {
    return JSON.parse((await client.getManifest(tag, { accept: [MediaType.OciManifest] })).bytes.toString('utf8'));
  } finally {
    await client.close();
  }
}

describe('push to a registry that refuses Flux media types', () => {
  it('falls back once to the standard OCI types, says so in one line, and uploads no blob twice', async () => {
    proxy.reset();
    const r = await runCli(['push', viaProxy('gl/app'), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '-o', 'json']);
    expect(r.stderr).not.toContain('✗');
    expect(r.code).toBe(0);
    await proxy.idle();
    expect(manifestPuts(), 'one refused PUT, one accepted').toEqual([400, 201]);
    expect(blobUploads(), 'config and layer uploaded once each').toBeLessThanOrEqual(2);
    const notices = r.stderr.split('\n').filter((l) => l.includes('standard OCI types'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('unknown media type');
    const stored = await storedManifest('gl/app', 'v1');
    expect(stored.config.mediaType).toBe(MediaType.OciConfig);
    expect(stored.layers.map((l) => l.mediaType)).toEqual([MediaType.OciLayerTarGzip]);
    expect(JSON.parse(r.stdout).digest).toMatch(/^sha256:/);
  });

  it('pull, diff and inspect read the OCI-typed artifact; verify checks its signature', async () => {
    const out = join(work.path, 'pulled');
    const pulled = await runCli(['pull', viaProxy('gl/app'), '-o', out]);
    expect(pulled.stderr).not.toContain('✗');
    expect(pulled.code).toBe(0);
    expect(await snapshotTree(out)).toEqual(await pushedTree());

    const same = await runCli(['diff', viaProxy('gl/app'), '--path', KUSTOMIZE_FIXTURE]);
    expect(same.stderr).not.toContain('✗');
    expect(same.code, same.stdout).toBe(0);

    const inspected = await runCli(['inspect', viaProxy('gl/app'), '-o', 'json']);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.stdout).toContain(MediaType.OciLayerTarGzip);

    const keys = join(work.path, 'signer');
    const env = { COSIGN_PASSWORD: '' };
    expect((await runCli(['generate-key-pair', '--output-key-prefix', keys], { env })).code).toBe(0);
    const signed = await runCli(['push', viaProxy('gl/signed'), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--sign', '--key', `${keys}.key`], { env });
    expect(signed.code, signed.stderr).toBe(0);
    const verified = await runCli(['verify', viaProxy('gl/signed'), '--key', `${keys}.pub`]);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('keeps media types the user chose: their refusal is the error, with no second PUT', async () => {
    proxy.reset();
    const r = await runCli(['push', viaProxy('gl/chosen'), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--config-media-type', MediaType.FluxConfig]);
    expect(r.code, 'a registry refusal: exit 3').toBe(3);
    expect(r.stderr).toContain('unknown media type: application/vnd.cncf.flux.config.v1+json');
    await proxy.idle();
    expect(manifestPuts()).toEqual([400]);
  });

  it('pushes the types given with --config-media-type and --layer-media-type in one PUT', async () => {
    proxy.reset();
    const r = await runCli(['push', viaProxy('gl/oci'), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE,
      '--config-media-type', MediaType.OciConfig, '--layer-media-type', 'application/vnd.acme.manifests.v1.tar+gzip']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('standard OCI types');
    await proxy.idle();
    expect(manifestPuts()).toEqual([201]);
    const stored = await storedManifest('gl/oci', 'v1');
    expect(stored.layers.map((l) => l.mediaType)).toEqual(['application/vnd.acme.manifests.v1.tar+gzip']);
    const out = join(work.path, 'pulled-acme');
    expect((await runCli(['pull', viaProxy('gl/oci'), '-o', out])).code).toBe(0);
    expect(await snapshotTree(out)).toEqual(await pushedTree());
  });

  it('refuses a layer media type that is not a gzip\'d tar, before any request', async () => {
    proxy.reset();
    const r = await runCli(['push', viaProxy('gl/bad'), '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE, '--layer-media-type', 'application/json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--layer-media-type 'application/json' does not name a gzip'd tar");
    expect(proxy.log).toHaveLength(0);
  });
});
