import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/mediatypes.js';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { parseReference } from '../../src/ref/reference.js';
import { runCli } from '../helpers/cli.js';
import { useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * diff must judge artifacts by their files, not their bytes: here the artifacts come from another toolchain
 * (GNU tar + gzip, an OCI layout written by hand, pushed by skopeo), with `./` names or none, directory entries or
 * none, real owners and times, and other gzip bytes than ours.
 */
const registry = useRegistry();
const work = useWorkDir('oci-artifact-foreign-');
let src: string;

beforeAll(async () => {
  src = join(work.path, 'src');
  await mkdir(join(src, 'apps', 'web'), { recursive: true });
  await writeFile(join(src, 'kustomization.yaml'), 'resources:\n  - apps/web/deploy.yaml\n');
  await writeFile(join(src, 'apps', 'web', 'deploy.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n');
  await writeFile(join(src, 'hook.sh'), '#!/bin/sh\nexit 0\n');
  await chmod(join(src, 'hook.sh'), 0o755);
  await chmod(join(src, 'kustomization.yaml'), 0o644);
  await chmod(join(src, 'apps', 'web', 'deploy.yaml'), 0o644);
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** An OCI image layout holding one image manifest over `layer`, written by hand, then pushed by skopeo. */
async function pushWithSkopeo(name: string, layer: Buffer, uncompressed: Buffer): Promise<string> {
  const layout = join(work.path, `layout-${name}`);
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Buffer) => {
    await writeFile(join(layout, 'blobs', 'sha256', sha256(bytes)), bytes);
    return { digest: `sha256:${sha256(bytes)}`, size: bytes.length };
  };
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(uncompressed)}`] },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, ...(await put(config)) },
    layers: [{ mediaType: MediaType.OciLayerTarGzip, ...(await put(layer)) }],
    annotations: { 'org.opencontainers.image.source': `https://example.invalid/${name}` },
  }));
  const descriptor = { mediaType: MediaType.OciManifest, ...(await put(manifest)), annotations: { 'org.opencontainers.image.ref.name': 'v1' } };
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [descriptor] }));
  execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${registry.host}/foreign/${name}:v1`], { stdio: 'pipe', timeout: 60_000 });
  return descriptor.digest;
}

/** GNU tar of `src` with `args`, gzip'd by gzip(1). */
function gnuTar(args: string[]): { tar: Buffer; tgz: Buffer } {
  const tar = execFileSync('tar', ['-C', src, '-cf', '-', ...args], { maxBuffer: 16 * 1024 * 1024 });
  const tgz = execFileSync('gzip', ['-9', '-c'], { input: tar, maxBuffer: 16 * 1024 * 1024 });
  return { tar, tgz };
}

const ref = (name: string) => `oci://${registry.host}/foreign/${name}:v1`;

describe('diff against artifacts built by other tools', () => {
  beforeAll(async () => {
    // `./`-prefixed names with directory entries, the machine's owner and times, pax headers.
    const dotted = gnuTar(['--format=pax', '.']);
    // Bare names, no directory entries at all, another owner, ustar headers.
    const bare = gnuTar(['--format=ustar', '--owner=1234', '--group=99', '--mtime=@86400', '--no-recursion', 'hook.sh', 'kustomization.yaml', 'apps/web/deploy.yaml']);
    expect(dotted.tar.toString('latin1')).toContain('./apps/web/');
    const digests = [await pushWithSkopeo('dotted', dotted.tgz, dotted.tar), await pushWithSkopeo('bare', bare.tgz, bare.tar)];
    // skopeo stored our bytes unchanged: these are the other toolchain's manifests, not re-encoded ones.
    for (const [i, name] of ['dotted', 'bare'].entries()) {
      const repo = await openRepository(parseReference(`oci://${registry.host}/foreign/${name}`));
      expect((await repo.resolve('v1'))?.digest).toBe(digests[i]);
      await repo.close();
    }
    const pushed = await runCli(['push', `oci://${registry.host}/ours:v1`, '--path', src, '--source', 'https://example.invalid/ours',
      '--revision', `main@sha1:${'e'.repeat(40)}`]);
    expect(pushed.code).toBe(0);
  }, 120_000);

  it('finds no difference with the local tree, whichever tar layout the artifact has', async () => {
    for (const name of ['dotted', 'bare']) {
      const r = await runCli(['diff', ref(name), '--path', src]);
      expect(r.stderr).toContain('no differences');
      expect(r.code).toBe(0);
    }
  });

  it('finds no difference between archives of the same tree with different bytes', async () => {
    const r = await runCli(['diff', ref('dotted'), ref('bare'), '-o', 'json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.old.layer).not.toBe(result.new.layer);
    expect(result.changes).toEqual([]);
    const ours = await runCli(['diff', `oci://${registry.host}/ours:v1`, ref('bare')]);
    expect(ours.code).toBe(0);
  });

  it('names the changed files against a foreign artifact', async () => {
    const changed = join(work.path, 'changed');
    await cp(src, changed, { recursive: true });
    await writeFile(join(changed, 'apps', 'web', 'deploy.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 4\n');
    await chmod(join(changed, 'hook.sh'), 0o644);
    await writeFile(join(changed, 'new.yaml'), 'a: 1\n');
    const r = await runCli(['diff', ref('dotted'), '--path', changed, '--semantic']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      '~ apps/v1 Deployment web (apps/web/deploy.yaml)\n' +
      '    ~ spec.replicas: 1 -> 4\n' +
      '+ new.yaml#0 (new.yaml)\n' +
      'mode      hook.sh 755 -> 644\n',
    );
    expect(await readFile(join(src, 'apps', 'web', 'deploy.yaml'), 'utf8')).toContain('replicas: 1');
  });
});
