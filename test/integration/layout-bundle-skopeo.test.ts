import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openLayoutRepository } from '../../src/layout/repository.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import type { ImageManifest } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { runCli } from '../helpers/cli.js';
import { flipByteAt, isBlobGet } from '../helpers/faults.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { startProxy } from '../helpers/proxy.js';

/**
 * Single-file bundles (oci-layout://….tar, .tar.gz) against skopeo's `oci-archive:` transport, an independent
 * reader and writer of the same format, and the air-gap transfer they make: registry -> one file -> registry.
 */
const run = promisify(execFile);
const skopeo = (...args: string[]): Promise<{ stdout: string }> => run('skopeo', args, { timeout: 60_000 });

const registry = useRegistry();
const work = useWorkDir('layout-bundle-skopeo-');
const oci = (repo: string, tag = '') => `oci://${registry.host}/${repo}${tag === '' ? '' : `:${tag}`}`;

async function push(repo: string, tag: string): Promise<string> {
  const r = await runCli(['push', oci(repo, tag), '--path', KUSTOMIZE_FIXTURE, ...PROVENANCE, '-o', 'json']);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { digest: string }).digest;
}

async function registryDigest(repo: string, tag: string): Promise<string | null> {
  const head = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: MediaType.OciManifest } });
  return head.headers.get('docker-content-digest');
}

describe('bundles and skopeo oci-archive', () => {
  for (const name of ['release.tar', 'release.tar.gz']) {
    it(`air gap through ${name}: registry -> bundle (copy) -> skopeo -> registry, and back through us; digests kept`, async () => {
      const digest = await push(`gap/${name}/app`, 'v1.0.0');
      const bundle = join(work.path, name);
      const out = await runCli(['copy', oci(`gap/${name}/app`, 'v1.0.0'), `oci-layout://${bundle}`]);
      expect(out.stderr).not.toContain('✗');
      expect(out.code).toBe(0);
      expect(out.stdout.trim()).toBe(`oci-layout://${bundle}:v1.0.0@${digest}`);
      // Only the bundle: no temporary file beside it.
      expect(await readdir(work.path)).toContain(name);
      expect((await readdir(work.path)).filter((n) => n.startsWith('.'))).toEqual([]);

      if (name.endsWith('.tar')) {
        // skopeo reads what we wrote (oci-archive is an uncompressed tar in containers/image).
        const { stdout } = await skopeo('inspect', '--raw', `oci-archive:${bundle}:v1.0.0`);
        expect(digestOf(Buffer.from(stdout))).toBe(digest);
        await skopeo('copy', '--dest-tls-verify=false', `oci-archive:${bundle}:v1.0.0`, `docker://${registry.host}/gap/by-skopeo:v1.0.0`);
        expect(await registryDigest('gap/by-skopeo', 'v1.0.0')).toBe(digest);
      }

      // We read what we wrote, into another repository: the second half of the air gap.
      const back = await runCli(['copy', `oci-layout://${bundle}:v1.0.0`, oci(`gap/${name}/internal`)]);
      expect(back.stderr).not.toContain('✗');
      expect(back.code).toBe(0);
      expect(await registryDigest(`gap/${name}/internal`, 'v1.0.0')).toBe(digest);
      const pulled = await runCli(['pull', oci(`gap/${name}/internal`, 'v1.0.0'), '-o', join(work.path, `pulled-${name}`)]);
      expect(pulled.code).toBe(0);
    });
  }

  it('we read a bundle skopeo wrote, blobs verified, and carry it to a registry', async () => {
    const digest = await push('theirs/app', 'v2.0.0');
    const bundle = join(work.path, 'theirs.tar');
    await skopeo('copy', '--src-tls-verify=false', `docker://${registry.host}/theirs/app:v2.0.0`, `oci-archive:${bundle}:v2.0.0`);

    const repo = await openLayoutRepository({ kind: 'layout', path: bundle });
    try {
      expect(await repo.listTags()).toEqual(['v2.0.0']);
      const fetched = await repo.getManifest('v2.0.0');
      expect(fetched.digest).toBe(digest);
      const manifest = JSON.parse(fetched.bytes.toString('utf8')) as ImageManifest;
      const layer = await repo.fetchBlob(manifest.layers[0]!, { maxBytes: 1024 * 1024 });
      expect(digestOf(layer)).toBe(manifest.layers[0]!.digest);
    } finally {
      await repo.close();
    }

    const r = await runCli(['copy', `oci-layout://${bundle}:v2.0.0`, oci('theirs/internal')]);
    expect(r.code).toBe(0);
    expect(await registryDigest('theirs/internal', 'v2.0.0')).toBe(digest);
  });

  it('a copy into a bundle that fails half way (a corrupted blob) leaves the bundle as it was and no temporary file', async () => {
    await push('fail/app', 'v1');
    const other = join(work.path, 'other-tree');
    await mkdir(other);
    await writeFile(join(other, 'deploy.yaml'), 'kind: ConfigMap\n'.repeat(5000));
    expect((await runCli(['push', oci('fail/app', 'v2'), '--path', other, ...PROVENANCE])).code).toBe(0);
    const bundle = join(work.path, 'kept.tar');
    expect((await runCli(['copy', oci('fail/app', 'v1'), `oci-layout://${bundle}`])).code).toBe(0);
    const before = await readFile(bundle);

    const proxy = await startProxy({ target: registry.host, onRequest: (req) => (isBlobGet(req) ? { kind: 'forward', mutateBody: flipByteAt(10) } : undefined) });
    try {
      // v2's layer is not in the bundle: it is fetched, corrupted, and fails its digest check.
      const r = await runCli(['copy', `oci://${proxy.host}/fail/app:v2`, `oci-layout://${bundle}`, '--insecure-registry']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/digest|mismatch/i);
    } finally {
      await proxy.stop();
    }
    expect((await readFile(bundle)).equals(before)).toBe(true);
    expect((await readdir(work.path)).filter((n) => n.startsWith('.kept.tar'))).toEqual([]);
  });
});
