import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotation } from '../../src/oci/mediatypes.js';
import { push } from '../../src/ops/push.js';
import { parseReference } from '../../src/ref/reference.js';
import { runCli } from '../helpers/cli.js';
import { SOURCE, REVISION, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { startProxy, type LoopbackProxy } from '../helpers/proxy.js';

/**
 * Issue 15 item 7: `list --limit/--sort/--latest` for scripts, on the real registry. Tags are pushed with creation
 * times that disagree with both the version order and the name order, so each sort is told apart; a proxy counts
 * the manifest GETs a limit saves.
 */
const registry = useRegistry();
const work = useWorkDir('oci-artifact-list-sort-');
let proxy: LoopbackProxy;
const digests: Record<string, string> = {};

// tag -> created (newest is v1.2.0's neighbour 'main-abc', then v0.9.0, ...)
const TAGS: Record<string, string> = {
  'v1.10.0': '2026-01-02T00:00:00Z',
  'v1.2.0': '2026-01-05T00:00:00Z',
  'v0.9.0': '2026-01-07T00:00:00Z',
  'main-abc': '2026-01-09T00:00:00Z',
  'v2.0.0-rc.1': '2026-01-01T00:00:00Z',
};

beforeAll(async () => {
  proxy = await startProxy({ target: registry.host });
  const dir = join(work.path, 'app');
  await mkdir(dir, { recursive: true });
  for (const [tag, created] of Object.entries(TAGS)) {
    await writeFile(join(dir, 'cm.yaml'), `kind: ConfigMap\nmetadata: {name: ${tag}}\n`);
    const result = await push({ ref: parseReference(`oci://${registry.host}/sorted/app:${tag}`), path: dir, source: SOURCE, revision: REVISION, annotations: { [Annotation.Created]: created } },
      { signal: new AbortController().signal, repositoryOptions: {}, cwd: work.path });
    digests[tag] = result.digest;
  }
});
afterAll(async () => {
  await proxy?.stop();
});

const repo = () => `oci://${proxy.host}/sorted/app`;
async function listJson(...args: string[]): Promise<{ tag: string; digest: string; created?: string }[]> {
  const r = await runCli(['list', repo(), '-o', 'json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}
const manifestGets = () => proxy.log.filter((e) => e.method === 'GET' && e.path.includes('/manifests/')).length;

describe('list --sort, --limit, --latest', () => {
  it('--sort semver puts versions newest first (1.10 above 1.2), other tags after them', async () => {
    expect((await listJson('--sort', 'semver')).map((a) => a.tag)).toEqual(['v2.0.0-rc.1', 'v1.10.0', 'v1.2.0', 'v0.9.0', 'main-abc']);
  });

  it('--sort created orders by the creation annotation, newest first', async () => {
    const listed = await listJson('--sort', 'created');
    expect(listed.map((a) => a.tag)).toEqual(['main-abc', 'v0.9.0', 'v1.2.0', 'v1.10.0', 'v2.0.0-rc.1']);
    expect(listed[0]!.created).toBe(TAGS['main-abc']);
  });

  it('--limit reads only the manifests it shows (without --sort created)', async () => {
    proxy.reset();
    const listed = await listJson('--sort', 'semver', '--limit', '2');
    await proxy.idle();
    expect(listed.map((a) => a.tag)).toEqual(['v2.0.0-rc.1', 'v1.10.0']);
    expect(manifestGets(), 'two manifest GETs, not five').toBe(2);

    proxy.reset();
    expect((await listJson('--sort', 'created', '--limit', '2')).map((a) => a.tag)).toEqual(['main-abc', 'v0.9.0']);
    await proxy.idle();
    expect(manifestGets(), 'sorting by creation reads every selected manifest').toBe(5);
  });

  it('--latest prints one pinned reference; with -o json one object; with filters the highest match', async () => {
    const r = await runCli(['list', repo(), '--filter-semver', '>=1.0.0 <2.0.0', '--latest']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`oci://${proxy.host}/sorted/app:v1.10.0@${digests['v1.10.0']}\n`);

    const json = await runCli(['list', repo(), '--sort', 'created', '--latest', '-o', 'json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ tag: 'main-abc', digest: digests['main-abc'] });

    const none = await runCli(['list', repo(), '--filter-regex', '^nothing', '--latest']);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('has no tag to pick');
  });

  it('refuses --latest with --limit, and a --sort it does not know, before any request', async () => {
    proxy.reset();
    const both = await runCli(['list', repo(), '--latest', '--limit', '3']);
    expect(both.code).toBe(2);
    const bad = await runCli(['list', repo(), '--sort', 'name']);
    expect(bad.code).toBe(2);
    expect(proxy.log).toHaveLength(0);
  });
});
