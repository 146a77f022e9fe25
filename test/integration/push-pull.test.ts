import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, snapshotTree } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';

const registry = useRegistry();
const work = useWorkDir();

/** Where the generic tests push: the real registry, or an OCI layout in the work directory. */
type Backend = 'registry' | 'layout';
let backend: Backend = 'registry';

function ref(repo: string, tag = 'v1'): string {
  return backend === 'registry' ? `oci://${registry.host}/${repo}:${tag}` : `oci-layout://${join(work.path, 'layouts', repo)}:${tag}`;
}

function urlPattern(repo: string): RegExp {
  const escaped = (backend === 'registry' ? `oci://${registry.host}/${repo}` : `oci-layout://${join(work.path, 'layouts', repo)}`).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^${escaped}@sha256:[0-9a-f]{64}$`);
}

async function pushOk(args: string[]): Promise<{ url: string; repository: string; tag: string; digest: string }> {
  const r = await runCli(['push', ...args, ...PROVENANCE, '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe.each<Backend>(['registry', 'layout'])('push and pull (%s)', (kind) => {
  beforeAll(() => {
    backend = kind;
  });

  it('round-trips the Kustomize fixture tree exactly', async () => {
    const pushed = await pushOk([ref('round/trip'), '--path', KUSTOMIZE_FIXTURE]);
    expect(pushed).toEqual({
      url: expect.stringMatching(urlPattern('round/trip')),
      repository: kind === 'registry' ? `${registry.host}/round/trip` : `oci-layout://${join(work.path, 'layouts', 'round/trip')}`,
      tag: 'v1',
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      pushed: true,
    });
    const out = join(work.path, `round-trip-${kind}`);
    const pulled = await runCli(['pull', ref('round/trip'), '--output', out]);
    expect(pulled.code).toBe(0);
    expect(pulled.stderr).toContain(pushed.digest);
    // Flux's default ignore list drops images and the fixture's .sourceignore drops drafts/; everything else is
    // restored byte for byte with its mode.
    const expected = await snapshotTree(KUSTOMIZE_FIXTURE);
    for (const key of Object.keys(expected)) if (/\.(png|jpg)$/.test(key) || key.startsWith('drafts/')) delete expected[key];
    const actual = await snapshotTree(out);
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    expect(actual).toEqual(expected);
  });

  it('gives the same digest for the same input with --reproducible, from any copy of the tree', async () => {
    const copy = join(work.path, `copy-${kind}`);
    await cp(KUSTOMIZE_FIXTURE, copy, { recursive: true });
    const a = await pushOk([ref('repro', 'a'), '--path', KUSTOMIZE_FIXTURE, '--reproducible']);
    const b = await pushOk([ref('repro', 'b'), '--path', copy, '--reproducible']);
    expect(b.digest).toBe(a.digest);
    const c = await pushOk([ref('repro', 'c'), '--path', KUSTOMIZE_FIXTURE]);
    expect(c.digest).not.toBe(a.digest); // created time differs without --reproducible
  });

  it('prints the digest URL on stdout and human lines on stderr', async () => {
    const r = await runCli(['push', ref('plain'), '--path', KUSTOMIZE_FIXTURE, ...PROVENANCE]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(urlPattern('plain'));
    expect(r.stderr).toContain('pushed');
    expect(r.stderr).not.toMatch(/\u001b\[/); // no colour when not a terminal
  });

  it('pushes a single file and manifests from stdin', async () => {
    const file = join(work.path, `single-${kind}.yaml`);
    await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n');
    await pushOk([ref('single'), '--path', file]);
    const out = join(work.path, `single-out-${kind}`);
    const pulled = await runCli(['pull', ref('single'), '-o', out]);
    expect(pulled.code).toBe(0);
    expect(pulled.stderr).toMatch(/extracted 1 file \(/);
    expect(await readdir(out)).toEqual([`single-${kind}.yaml`]);

    const stdin = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-stdin\n';
    const r = await runCli(['push', ref('stdin'), '-f', '-', ...PROVENANCE], { input: stdin });
    expect(r.code).toBe(0);
    const out2 = join(work.path, `stdin-out-${kind}`);
    expect((await runCli(['pull', ref('stdin'), '-o', out2])).code).toBe(0);
    expect(await readFile(join(out2, 'stdin.yaml'), 'utf8')).toBe(stdin);

    // Empty stdin (a failed producer in a pipeline) must not replace the tag with an empty artifact.
    const empty = await runCli(['push', ref('stdin'), '-f', '-', ...PROVENANCE], { input: '' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("✗ '-f -' read nothing from stdin");
    const out3 = join(work.path, `stdin-out-again-${kind}`);
    expect((await runCli(['pull', ref('stdin'), '-o', out3])).code).toBe(0);
    expect(await readFile(join(out3, 'stdin.yaml'), 'utf8')).toBe(stdin);
  });

  it('honours ignore flags and .sourceignore', async () => {
    const dir = join(work.path, `ignores-${kind}`);
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'keep.yaml'), 'a: 1\n');
    await writeFile(join(dir, 'drop.txt'), 'x');
    await writeFile(join(dir, 'logo.png'), 'png');
    await writeFile(join(dir, 'sub', 'secret.env'), 'S=1');
    await writeFile(join(dir, '.sourceignore'), '*.env\n');
    await pushOk([ref('ignores', 'defaults'), '--path', dir, '--add-ignore-paths', '*.txt']);
    const out = join(work.path, `ignores-out-${kind}`);
    expect((await runCli(['pull', ref('ignores', 'defaults'), '-o', out])).code).toBe(0);
    const files = Object.keys(await snapshotTree(out)).sort();
    expect(files).toContain('keep.yaml');
    expect(files).not.toContain('drop.txt');
    expect(files).not.toContain('logo.png');
    expect(files).not.toContain('sub/secret.env');

    await pushOk([ref('ignores', 'replaced'), '--path', dir, '--ignore-paths', '*.txt']);
    const out2 = join(work.path, `ignores-out2-${kind}`);
    expect((await runCli(['pull', ref('ignores', 'replaced'), '-o', out2])).code).toBe(0);
    const files2 = Object.keys(await snapshotTree(out2));
    expect(files2).toContain('logo.png'); // defaults replaced
    expect(files2).not.toContain('drop.txt');
  });

  it('keeps the executable bit', async () => {
    const dir = join(work.path, `modes-${kind}`);
    await mkdir(dir);
    await writeFile(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(dir, 'run.sh'), 0o755);
    await pushOk([ref('modes'), '--path', dir]);
    const out = join(work.path, `modes-out-${kind}`);
    expect((await runCli(['pull', ref('modes'), '-o', out])).code).toBe(0);
    expect((await snapshotTree(out))['run.sh']?.startsWith('755:')).toBe(true);
  });

});

describe('interoperability with skopeo (registry)', () => {
  beforeAll(() => {
    backend = 'registry';
  });

  it('writes exactly the Flux media types and annotations, as skopeo reads them', async () => {
    const pushed = await pushOk([ref('flux/format'), '--path', KUSTOMIZE_FIXTURE, '-a', 'team=platform', '-a', 'query=a=b']);
    const layout = join(work.path, 'skopeo-layout');
    execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${registry.host}/flux/format:v1`, `oci:${layout}:v1`], { stdio: 'pipe' });
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(pushed.digest);
    const manifest = JSON.parse(await readFile(join(layout, 'blobs', 'sha256', pushed.digest.slice(7)), 'utf8'));
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(manifest.config.mediaType).toBe('application/vnd.cncf.flux.config.v1+json');
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0].mediaType).toBe('application/vnd.cncf.flux.content.v1.tar+gzip');
    expect(manifest.annotations).toMatchObject({
      'org.opencontainers.image.source': PROVENANCE[1],
      'org.opencontainers.image.revision': PROVENANCE[3],
      'org.opencontainers.image.created': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      team: 'platform',
      query: 'a=b',
    });
    // The layer skopeo copied is a gzip'd tar that the system tar lists.
    const listing = execFileSync('tar', ['-tzf', join(layout, 'blobs', 'sha256', manifest.layers[0].digest.slice(7))]).toString();
    expect(listing).toContain('base/kustomization.yaml');
  });

  it('reads an artifact written by other tools (system tar + gzip, copied in by skopeo)', async () => {
    const src = join(work.path, 'foreign-src');
    await mkdir(join(src, 'manifests'), { recursive: true });
    await writeFile(join(src, 'manifests', 'cm.yaml'), 'kind: ConfigMap\n');
    const tgz = join(work.path, 'foreign.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', src, '.']);
    const layout = join(work.path, 'foreign-layout');
    await writeForeignLayout(layout, await readFile(tgz));
    execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${registry.host}/foreign:v1`], { stdio: 'pipe' });
    const out = join(work.path, 'foreign-out');
    const r = await runCli(['pull', ref('foreign'), '-o', out]);
    expect(r.stderr).not.toContain('✗');
    expect(await readFile(join(out, 'manifests', 'cm.yaml'), 'utf8')).toBe('kind: ConfigMap\n');
  });
});

describe('build', () => {
  it('writes the same bytes push uploads', async () => {
    const out = join(work.path, 'artifact.tgz');
    const r = await runCli(['build', '--path', KUSTOMIZE_FIXTURE, '--output', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\(\d+ files, /);
    const listing = execFileSync('tar', ['-tzf', out]).toString();
    expect(listing).toContain('base/kustomization.yaml');
    const again = join(work.path, 'artifact2.tgz');
    await runCli(['build', '--path', KUSTOMIZE_FIXTURE, '--output', again]);
    expect((await readFile(again)).equals(await readFile(out))).toBe(true);
  });
});

/** An OCI layout holding one image whose layer is `tgz`, written by hand (not by our layout code). */
async function writeForeignLayout(dir: string, tgz: Buffer): Promise<void> {
  const { createHash } = await import('node:crypto');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(tgz)}`, size: tgz.length }],
  }));
  for (const blob of [config, tgz, manifest]) await writeFile(join(dir, 'blobs', 'sha256', sha(blob)), blob);
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  }));
}
