import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { MediaType } from '../../src/oci/mediatypes.js';
import { addToFallbackIndex, cosignTag } from '../../src/oci/referrers.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository } from '../../src/registry/client.js';
import { runCli } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, SOURCE, REVISION, useRegistry, useWorkDir } from '../helpers/fixtures.js';

const registry = useRegistry();
const work = useWorkDir('oci-artifact-inspect-');
let digest: string;
let referrer: Descriptor;
let signature: string;

const oci = (repo: string, tag = 'v1') => `oci://${registry.host}/${repo}:${tag}`;

beforeAll(async () => {
  const pushed = await runCli(['push', oci('app'), '--path', KUSTOMIZE_FIXTURE, '--source', SOURCE, '--revision', REVISION, '-a', 'team=platform', '-o', 'json']);
  expect(pushed.code).toBe(0);
  digest = JSON.parse(pushed.stdout).digest;

  // A cosign-style signature tag and an SBOM referrer listed in the fallback index, made with the Repository API.
  const repo = openRegistryRepository(parseRegistryReference(`oci://${registry.host}/app`));
  const subject = await repo.resolve(digest);
  const put = async (reference: string | undefined, layerType: string, body: string, extra: Record<string, unknown>) => {
    const empty = Buffer.from('{}');
    const layer = Buffer.from(body);
    const config: Descriptor = { mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 };
    const layerDesc: Descriptor = { mediaType: layerType, digest: digestOf(layer), size: layer.length };
    await repo.pushBlob(config, empty);
    await repo.pushBlob(layerDesc, layer);
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, ...extra, config, layers: [layerDesc] }));
    await repo.putManifest(reference ?? digestOf(bytes), bytes, MediaType.OciManifest);
    return { mediaType: MediaType.OciManifest, digest: digestOf(bytes), size: bytes.length } as Descriptor;
  };
  signature = (await put(cosignTag(digest, '.sig'), MediaType.CosignSimpleSigning, 'payload', {})).digest;
  referrer = { ...(await put(undefined, 'application/spdx+json', '{}', { artifactType: 'application/spdx+json', subject })), artifactType: 'application/spdx+json' };
  await addToFallbackIndex(repo, digest, [referrer]);
});

async function inspectOk(args: string[]): Promise<string> {
  const r = await runCli(['inspect', ...args]);
  expect(r.stderr).not.toContain('✗');
  expect(r.code).toBe(0);
  return r.stdout;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

describe('inspect', () => {
  it('-o json gives the raw manifest, digest, config, annotations, layers, files and referrers', async () => {
    const result = JSON.parse(await inspectOk([oci('app'), '--files', '-o', 'json']));
    const repo = openRegistryRepository(parseRegistryReference(`oci://${registry.host}/app`));
    const raw = JSON.parse((await repo.getManifest(digest)).bytes.toString('utf8'));

    expect(Object.keys(result).sort()).toEqual([
      'annotations', 'config', 'created', 'digest', 'files', 'filesLayer', 'layers', 'manifest', 'mediaType', 'reference',
      'referrers', 'revision', 'size', 'source',
    ]);
    expect(result.manifest).toEqual(raw);
    expect(result.digest).toBe(digest);
    expect(result.reference).toBe(`${oci('app')}@${digest}`);
    expect(result.mediaType).toBe(MediaType.OciManifest);
    expect(result.config).toEqual(raw.config);
    expect(result.config.mediaType).toBe(MediaType.FluxConfig);
    expect(result.layers).toEqual(raw.layers);
    expect(result.annotations).toEqual(raw.annotations);
    expect(result.annotations.team).toBe('platform');
    expect(result).toMatchObject({ source: SOURCE, revision: REVISION, created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });

    const kustomization = result.files.find((f: { path: string }) => f.path === 'base/kustomization.yaml');
    expect(kustomization).toEqual({
      path: 'base/kustomization.yaml',
      type: 'file',
      mode: 0o644,
      size: (await readFile(join(KUSTOMIZE_FIXTURE, 'base', 'kustomization.yaml'))).length,
      sha256: sha256(await readFile(join(KUSTOMIZE_FIXTURE, 'base', 'kustomization.yaml'))),
    });
    expect(result.files.find((f: { path: string }) => f.path === 'base')).toMatchObject({ type: 'directory' });
    expect(result.filesLayer).toEqual(raw.layers[0]);

    expect(result.referrers).toEqual([
      { kind: 'cosign-signature', tag: cosignTag(digest, '.sig'), digest: signature, mediaType: MediaType.OciManifest, size: expect.any(Number) },
      { kind: 'referrer', digest: referrer.digest, mediaType: MediaType.OciManifest, size: referrer.size, artifactType: 'application/spdx+json' },
    ]);
  });

  it('-o yaml carries the same document; files only with --files', async () => {
    const json = JSON.parse(await inspectOk([oci('app'), '-o', 'json']));
    expect(json.files).toBeUndefined();
    expect(parseYaml(await inspectOk([oci('app'), '-o', 'yaml']))).toEqual(json);
  });

  it('prints aligned sections for people', async () => {
    const out = await inspectOk([oci('app'), '--files']);
    const sections = out.split('\n').filter((line) => /^[A-Z]/.test(line)).map((line) => line.split(/\s{2,}| \(/)[0]);
    expect(sections).toEqual(['Reference', 'Digest', 'Media type', 'Size', 'Config', 'Annotations', 'Layers', 'Files', 'Signatures and referrers']);
    expect(out).toContain(`Digest      ${digest}`);
    expect(out).toMatch(new RegExp(`org\\.opencontainers\\.image\\.source\\s+${SOURCE.replace(/\./g, '\\.')}`));
    expect(out).toMatch(/-rwxr-xr-x\s+\d+(\.\d)? (B|KiB)\s+scripts\/render\.sh/);
    expect(out).toMatch(new RegExp(`cosign-signature\\s+${cosignTag(digest, '.sig')}\\s+${signature}`));
    expect(out).toMatch(new RegExp(`referrer\\s+application/spdx\\+json\\s+${referrer.digest}`));
    // Values of one section start in one column.
    const config = out.split('\n').map((l) => /^( {2}(?:Media type|Digest|Size)\s+)\S/.exec(l)?.[1]).filter((p) => p !== undefined);
    expect(config).toHaveLength(3);
    expect(config.map((prefix) => prefix.length)).toEqual([14, 14, 14]);
  });

  it('reads an OCI layout the same way', async () => {
    const dir = join(work.path, 'store');
    expect((await runCli(['copy', oci('app'), `oci-layout://${dir}`])).code).toBe(0);
    const fromLayout = JSON.parse(await inspectOk([`oci-layout://${dir}:v1`, '-o', 'json']));
    const fromRegistry = JSON.parse(await inspectOk([oci('app'), '-o', 'json']));
    expect(fromLayout.manifest).toEqual(fromRegistry.manifest);
    expect(fromLayout.digest).toBe(digest);
    expect(fromLayout.referrers.map((r: { kind: string; digest: string }) => [r.kind, r.digest])).toEqual(
      fromRegistry.referrers.map((r: { kind: string; digest: string }) => [r.kind, r.digest]),
    );
  });

  it('fails in one line for a bad reference, a missing tag or a missing layout', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['app:v1'], 2, /invalid reference 'app:v1'/],
      [[oci('app', 'missing')], 3, new RegExp(`not found: oci://${registry.host}/app has no tag 'missing'`)],
      [[`oci-layout://${join(work.path, 'nowhere')}:v1`], 2, /nowhere/],
      [[oci('app'), '-o', 'xml'], 2, /output format 'xml'/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(['inspect', ...args]);
      expect(r.code, args.join(' ')).toBe(code);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('✗'));
      expect(errors, r.stderr).toHaveLength(1);
      expect(errors[0]).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});
