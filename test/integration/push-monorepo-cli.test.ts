import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';
import { PROVENANCE, REVISION, useProxy, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * The monorepo features through the built CLI against the real registry: repeatable -f SRC[:DEST], push
 * --if-changed (its outputs, and the request log proving no upload), push --all of fixtures/monorepo, and flags
 * that take one value refused when repeated.
 */
const registry = useRegistry();
const work = useWorkDir();
const proxy = useProxy(registry);

beforeAll(async () => {
  await mkdir(join(work.path, 'a'), { recursive: true });
  await mkdir(join(work.path, 'b'), { recursive: true });
  await writeFile(join(work.path, 'a', 'x.yaml'), 'x: 1\n');
  await writeFile(join(work.path, 'b', 'y.yaml'), 'y: 1\n');
  await cp(join(ROOT, 'fixtures', 'monorepo'), join(work.path, 'mono'), { recursive: true });
});

const requests = (): string[] => proxy.log.map((e) => `${e.method} ${e.path.replace(/\?.*/, '')} ${e.status}`);

describe('push -f SRC[:DEST], repeatable', () => {
  it('packs every source, none dropped, and refuses two sources claiming one path (exit 2)', async () => {
    const ref = `oci://${registry.host}/cli/multi:v1`;
    const pushed = await runCli(['push', ref, '-f', 'a', '-f', 'b:bee', ...PROVENANCE], { cwd: work.path });
    expect(pushed.stderr).not.toContain('✗');
    expect(pushed.code).toBe(0);
    const out = join(work.path, 'pulled');
    expect((await runCli(['pull', ref, '-o', out])).code).toBe(0);
    expect(await readFile(join(out, 'x.yaml'), 'utf8')).toBe('x: 1\n');
    expect(await readFile(join(out, 'bee', 'y.yaml'), 'utf8')).toBe('y: 1\n');

    const clash = await runCli(['push', ref, '-f', 'a', '-f', 'a', ...PROVENANCE], { cwd: work.path });
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain("both put 'x.yaml' in the artifact");
    expect(clash.stdout).toBe('');
  });

  it('refuses a flag that takes one value when it is given twice, instead of keeping the last', async () => {
    const r = await runCli(['push', `oci://${registry.host}/cli/twice:v1`, '-f', 'a', '--source', 'https://one.invalid', '--source', 'https://two.invalid', '--revision', REVISION], { cwd: work.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--source was given more than once');
  });
});

describe('push --if-changed', () => {
  it('skips unchanged content with one manifest GET, and says so in every output', async () => {
    const ref = `oci://${proxy.host}/cli/ifc:prod`;
    const first = await runCli(['push', ref, '-f', 'a', '--if-changed', ...PROVENANCE], { cwd: work.path });
    expect(first.code).toBe(0);
    proxy.reset();
    const outputs = join(work.path, 'gh-output');
    const dotenv = join(work.path, 'ci.env');
    const again = await runCli(['push', ref, '-f', 'a', '--if-changed', '-o', 'json', '--dotenv', dotenv,
      '--source', 'https://example.invalid/org/repo', '--revision', `main@sha1:${'9'.repeat(40)}`], {
      cwd: work.path, env: { GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: outputs },
    });
    await proxy.idle();
    expect(again.code).toBe(0);
    expect(requests(), 'one manifest GET: no upload, no manifest PUT').toEqual(['GET /v2/cli/ifc/manifests/prod 200']);
    const json = JSON.parse(again.stdout) as { pushed: boolean; digest: string };
    expect(json.pushed).toBe(false);
    expect(json.digest).toBe(first.stdout.trim().split('@')[1]);
    expect(again.stderr).toContain(`already holds this content (pushed from ${REVISION}); nothing pushed`);
    expect(await readFile(outputs, 'utf8')).toContain('pushed=false\n');
    expect(await readFile(dotenv, 'utf8')).toBe(`OCI_ARTIFACT_DIGEST=${json.digest}\nOCI_ARTIFACT_URL=oci://${proxy.host}/cli/ifc@${json.digest}\nOCI_ARTIFACT_PUSHED=false\n`);
  });
});

describe('push --all', () => {
  const env = { REGISTRY: '', GIT_SHA: 'e'.repeat(40) };
  it('pushes the ten artifacts of the monorepo fixture, then nothing at all when unchanged', async () => {
    const run = (sha: string) => runCli(['push', '--all', '-o', 'json', ...PROVENANCE], { cwd: join(work.path, 'mono'), env: { ...env, REGISTRY: proxy.host, GIT_SHA: sha } });
    const cold = await run('e'.repeat(40));
    expect(cold.stderr).toContain('10 pushed, 0 unchanged, 0 failed');
    expect(cold.code).toBe(0);
    proxy.reset();
    const again = await run('f'.repeat(40));
    await proxy.idle();
    expect(again.code).toBe(0);
    const list = JSON.parse(again.stdout) as Array<{ name: string; status: string }>;
    expect(list.map((a) => a.status)).toEqual(Array(10).fill('unchanged'));
    expect(requests().filter((l) => !l.startsWith('GET ')), 'no upload, no write').toEqual([]);

    const table = await runCli(['push', '--all', ...PROVENANCE], { cwd: join(work.path, 'mono'), env: { REGISTRY: proxy.host, GIT_SHA: 'f'.repeat(40) } });
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+REFERENCE\s+DIGEST\s+TAGS$/);
    expect(table.stdout).toContain('web-production');
  });

  it('fails the run after the others finished, naming the failed ones, with their exit status', async () => {
    proxy.onRequest = (req) => (req.path.startsWith('/v2/monorepo/cache/') ? { kind: 'respond', status: 403, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"DENIED","message":"denied"}]}' } : undefined);
    try {
      const r = await runCli(['push', '--all', '--no-if-changed', ...PROVENANCE], { cwd: join(work.path, 'mono'), env: { REGISTRY: proxy.host, GIT_SHA: '1'.repeat(40) } });
      expect(r.stderr).toContain('8 pushed, 0 unchanged, 2 failed');
      expect(r.stderr).toContain('2 of 10 artifacts failed: cache-staging, cache-production');
      expect(r.code).toBe(4);
    } finally {
      proxy.onRequest = undefined;
    }
  });

  it('refuses a bad file before pushing anything, naming the line (exit 2)', async () => {
    await writeFile(join(work.path, 'bad.yaml'), 'version: 1\nartifacts:\n  - name: x\n    reference: oci://r.example/x:1\n    sources: [nowhere]\n');
    const r = await runCli(['push', '--all', '--config', 'bad.yaml', ...PROVENANCE], { cwd: work.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bad.yaml:5: artifacts[0].sources: 'nowhere' does not exist");
    expect(r.stdout).toBe('');
  });

  it('refuses --all with a reference or sources of its own', async () => {
    const r = await runCli(['push', '--all', '-f', 'a'], { cwd: work.path });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--path cannot be given with it');
  });
});
