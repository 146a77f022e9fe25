import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/mediatypes.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository } from '../../src/registry/client.js';
import { runCli, snapshotTree } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/** Interop with skopeo as an independent reader and writer of OCI image layouts. */

const registry = useRegistry();
const work = useWorkDir('oci-artifact-skopeo-');

const oci = (repo: string, tag = 'v1') => `oci://${registry.host}/${repo}:${tag}`;

function skopeo(...args: string[]): void {
  execFileSync('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', ...args], { stdio: 'pipe', timeout: 60_000 });
}

async function pushFixture(repo: string): Promise<string> {
  const r = await runCli(['push', oci(repo), '--path', KUSTOMIZE_FIXTURE, ...PROVENANCE, '-o', 'json']);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

async function pullTree(ref: string, name: string): Promise<Record<string, string>> {
  const out = join(work.path, name);
  const r = await runCli(['pull', ref, '-o', out]);
  expect(r.stderr).not.toContain('✗');
  expect(r.code).toBe(0);
  return snapshotTree(out);
}

describe('copy and skopeo', () => {
  it('a layout written by copy is pushed by skopeo and pulled back by this tool unchanged', async () => {
    const digest = await pushFixture('ours/src');
    const dir = join(work.path, 'ours-layout');
    expect((await runCli(['copy', oci('ours/src'), `oci-layout://${dir}`])).code).toBe(0);

    skopeo(`oci:${dir}:v1`, `docker://${registry.host}/x:v1`);

    const back = openRegistryRepository(parseRegistryReference(`oci://${registry.host}/x`));
    expect((await back.resolve('v1'))?.digest).toBe(digest);
    expect(await pullTree(oci('x'), 'ours-back')).toEqual(await pullTree(oci('ours/src'), 'ours-orig'));
  });

  it('a layout written by skopeo is read by inspect and copied on with its digest', async () => {
    const digest = await pushFixture('theirs/src');
    const dir = join(work.path, 'skopeo-layout');
    skopeo(`docker://${registry.host}/theirs/src:v1`, `oci:${dir}:v1`);
    // skopeo wrote it: no oci-artifact code touched this directory.
    expect(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });

    const inspected = await runCli(['inspect', `oci-layout://${dir}:v1`, '--files', '-o', 'json']);
    expect(inspected.stderr).not.toContain('✗');
    expect(inspected.code).toBe(0);
    const result = JSON.parse(inspected.stdout);
    expect(result.digest).toBe(digest);
    expect(result.config.mediaType).toBe(MediaType.FluxConfig);
    expect(result.annotations['org.opencontainers.image.source']).toBe(PROVENANCE[1]);
    expect(result.files.map((f: { path: string }) => f.path)).toContain('base/kustomization.yaml');

    const copied = await runCli(['copy', `oci-layout://${dir}:v1`, oci('theirs/dst', 'v2'), '-o', 'json']);
    expect(copied.code).toBe(0);
    expect(JSON.parse(copied.stdout)).toMatchObject({ digest, tag: 'v2', blobs: { copied: 2 } });
    expect(await pullTree(oci('theirs/dst', 'v2'), 'theirs-back')).toEqual(await pullTree(oci('theirs/src'), 'theirs-orig'));
  });

  it('an image index written by skopeo --all is copied with every child manifest', async () => {
    const repo = openRegistryRepository(parseRegistryReference(`oci://${registry.host}/multi/src`));
    const children: Descriptor[] = [];
    for (const arch of ['amd64', 'arm64']) {
      const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
      const configDesc: Descriptor = { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length };
      await repo.pushBlob(configDesc, config);
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: [] }));
      const childDigest = await repo.putManifest(digestOf(manifest), manifest, MediaType.OciManifest);
      children.push({ mediaType: MediaType.OciManifest, digest: childDigest, size: manifest.length, platform: { os: 'linux', architecture: arch } });
    }
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: children }));
    const indexDigest = await repo.putManifest('v1', index, MediaType.OciIndex);

    const dir = join(work.path, 'skopeo-index');
    skopeo('--all', `docker://${registry.host}/multi/src:v1`, `oci:${dir}:v1`);
    const copied = await runCli(['copy', `oci-layout://${dir}:v1`, oci('multi/dst'), '-o', 'json']);
    expect(copied.stderr).not.toContain('✗');
    expect(JSON.parse(copied.stdout)).toMatchObject({ digest: indexDigest, mediaType: MediaType.OciIndex });

    const dst = openRegistryRepository(parseRegistryReference(`oci://${registry.host}/multi/dst`));
    expect((await dst.getManifest('v1')).bytes.equals(index)).toBe(true);
    for (const child of children) expect((await dst.resolve(child.digest))?.digest).toBe(child.digest);

    const shown = await runCli(['inspect', oci('multi/dst')]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^Manifests$/m);
    expect(shown.stdout).toContain('linux/arm64');
  });
});
