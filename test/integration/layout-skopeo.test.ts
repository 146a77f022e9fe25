import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { createGunzip, gunzipSync } from 'node:zlib';
import * as tar from 'tar';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLayoutRepository } from '../../src/layout/repository.js';
import { Annotation, MediaType } from '../../src/oci/mediatypes.js';
import type { Descriptor, ImageManifest } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { useRegistry, useWorkDir } from '../helpers/fixtures.js';

/** Interop with skopeo (containers/image), an independent implementation of the OCI layout and of the registry API. */
const run = promisify(execFile);
const skopeo = (...args: string[]): Promise<{ stdout: string }> => run('skopeo', args, { timeout: 60_000 });

const DEPLOYMENT = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n';

interface Artifact {
  manifest: Buffer;
  digest: string;
  config: Descriptor;
  configBytes: Buffer;
  layer: Descriptor;
  layerBytes: Buffer;
}

/** A small artifact in the shape `flux push artifact` writes: Flux config, one gzip'd tar layer, OCI manifest. */
async function fluxArtifact(work: string): Promise<Artifact> {
  const source = join(work, 'source');
  await mkdir(source, { recursive: true });
  await writeFile(join(source, 'deploy.yaml'), DEPLOYMENT);
  const tarball = join(work, 'layer.tar.gz');
  await tar.create({ gzip: true, cwd: source, file: tarball, portable: true }, ['deploy.yaml']);
  const layerBytes = await readFile(tarball);
  const configBytes = Buffer.from(JSON.stringify({
    architecture: '', created: '1970-01-01T00:00:00Z', history: [{ created: '1970-01-01T00:00:00Z' }], os: '',
    rootfs: { type: 'layers', diff_ids: [digestOf(gunzipSync(layerBytes))] }, config: {},
  }));
  const config: Descriptor = { mediaType: MediaType.FluxConfig, digest: digestOf(configBytes), size: configBytes.length };
  const layer: Descriptor = { mediaType: MediaType.FluxContent, digest: digestOf(layerBytes), size: layerBytes.length };
  const body: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config,
    layers: [layer],
    annotations: {
      [Annotation.Created]: '1970-01-01T00:00:00Z',
      [Annotation.Source]: 'https://github.com/example/app',
      [Annotation.Revision]: 'main@sha1:0123456789abcdef0123456789abcdef01234567',
    },
  };
  const manifest = Buffer.from(JSON.stringify(body));
  return { manifest, digest: digestOf(manifest), config, configBytes, layer, layerBytes };
}

const registry = useRegistry();
const work = useWorkDir('layout-skopeo-');
let artifact: Artifact;

beforeAll(async () => {
  artifact = await fluxArtifact(work.path);
});

async function writeLayout(path: string, tag: string): Promise<void> {
  const repo = await openLayoutRepository({ kind: 'layout', path }, { create: true });
  expect(await repo.pushBlob(artifact.config, artifact.configBytes)).toBe('uploaded');
  expect(await repo.pushBlob(artifact.layer, artifact.layerBytes)).toBe('uploaded');
  expect(await repo.putManifest(tag, artifact.manifest, MediaType.OciManifest)).toBe(artifact.digest);
  await repo.close();
}

describe('skopeo and our layouts', () => {
  it('carries a layout we wrote through a real registry and back, byte for byte', async () => {
    const first = join(work.path, 'first');
    const second = join(work.path, 'second');
    await writeLayout(first, 'v1.0.0');

    const remote = `docker://${registry.host}/flux/app:v1.0.0`;
    await skopeo('copy', '--dest-tls-verify=false', `oci:${first}:v1.0.0`, remote);
    // what the registry holds, asked over plain HTTP: the same manifest digest
    const head = await fetch(`${registry.url}/v2/flux/app/manifests/v1.0.0`, { method: 'HEAD', headers: { accept: MediaType.OciManifest } });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-content-digest')).toBe(artifact.digest);

    await skopeo('copy', '--src-tls-verify=false', remote, `oci:${second}:v1.0.0`);
    const back = await openLayoutRepository({ kind: 'layout', path: second });
    const fetched = await back.getManifest('v1.0.0');
    expect(fetched.digest).toBe(artifact.digest);
    expect(fetched.bytes.equals(artifact.manifest)).toBe(true);
    expect(fetched.mediaType).toBe(MediaType.OciManifest);

    const manifest = JSON.parse(fetched.bytes.toString()) as ImageManifest;
    expect(manifest.layers[0]).toEqual(artifact.layer);
    // the layer streams verified, and is still the gzip'd tar with our file in it
    const stream = (await back.openBlob(manifest.layers[0]!)).pipe(createGunzip());
    expect(await text(stream)).toContain(DEPLOYMENT);
    expect((await back.fetchBlob(manifest.config)).equals(artifact.configBytes)).toBe(true);
    expect(await back.listTags()).toEqual(['v1.0.0']);
  });

  it('shares a layout with skopeo: each sees the tags and blobs the other wrote', async () => {
    const path = join(work.path, 'shared');
    await writeLayout(path, 'ours');
    await skopeo('copy', `oci:${path}:ours`, `oci:${path}:theirs`);

    const repo = await openLayoutRepository({ kind: 'layout', path });
    expect(await repo.listTags()).toEqual(['ours', 'theirs']);
    expect((await repo.getManifest('theirs')).digest).toBe(artifact.digest);

    // a tag we add afterwards is readable by skopeo, bytes unchanged
    await repo.putManifest('later', artifact.manifest, MediaType.OciManifest);
    const { stdout } = await skopeo('inspect', '--raw', `oci:${path}:later`);
    expect(digestOf(Buffer.from(stdout))).toBe(artifact.digest);
    expect(await repo.listTags()).toEqual(['later', 'ours', 'theirs']);
  });
});
