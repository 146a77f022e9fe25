import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/** Issue 15 item 6: `diff -o markdown` and the GitHub Actions step summary, on the real registry. */
const registry = useRegistry();
const work = useWorkDir('oci-artifact-diff-markdown-');
let released: string;
let changed: string;

const deployment = (image: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ${image}\n`;

beforeAll(async () => {
  released = join(work.path, 'released');
  await mkdir(released, { recursive: true });
  await writeFile(join(released, 'deploy.yaml'), deployment('web:1.0'));
  await writeFile(join(released, 'logo.bin'), Buffer.from([0, 1, 2]));
  const pushed = await runCli(['push', `oci://${registry.host}/dmd/app:v1`, '-f', released, ...PROVENANCE]);
  expect(pushed.code, pushed.stderr).toBe(0);
  changed = join(work.path, 'changed');
  await cp(released, changed, { recursive: true });
  await writeFile(join(changed, 'deploy.yaml'), deployment('web:1.1'));
  await writeFile(join(changed, 'logo.bin'), Buffer.from([0, 1, 2, 3]));
  await writeFile(join(changed, 'NOTES.md'), 'Run:\n\n```sh\nkubectl apply -k .\n```\n');
});

const artifact = () => `oci://${registry.host}/dmd/app:v1`;

describe('diff -o markdown', () => {
  it('prints the review: heading, counts, objects, one collapsible diff per file; exit 1', async () => {
    const r = await runCli(['diff', artifact(), '--path', changed, '-o', 'markdown']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(`### oci-artifact diff: <code>oci://${registry.host}/dmd/app:v1</code> → <code>${changed}</code>`);
    expect(r.stdout).toContain('**Files:** 1 added, 0 removed, 2 modified, 0 mode changed');
    expect(r.stdout).toContain('| modified | <code>apps/v1 Deployment prod/web</code> | <code>deploy.yaml</code> |');
    expect(r.stdout).toContain('<details><summary>NOTES.md (+5 −0)</summary>\n\n````diff\n');
    expect(r.stdout).toContain('<details><summary>deploy.yaml (+1 −1)</summary>\n\n```diff\n');
    expect(r.stdout).toContain('-          image: web:1.0\n+          image: web:1.1\n');
    expect(r.stdout).toContain('<details><summary>logo.bin (binary)</summary>\n\nbinary, 3 bytes → 4 bytes\n\n</details>');
  });

  it('says there is nothing to review when the content is the same; exit 0', async () => {
    const r = await runCli(['diff', artifact(), '--path', released, '-o', 'markdown']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('No differences.');
  });

  it('leaves out the diff of a file holding a Kubernetes Secret: its values never reach the review', async () => {
    const secret = (token: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringData:\n  token: ${token}\n`;
    const dir = join(work.path, 'with-secret');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'secret.yaml'), secret('hunter2'));
    const pushed = await runCli(['push', `oci://${registry.host}/dmd/secret:v1`, '-f', dir, ...PROVENANCE]);
    expect(pushed.code, pushed.stderr).toBe(0);
    await writeFile(join(dir, 'secret.yaml'), secret('correct-horse'));
    const r = await runCli(['diff', `oci://${registry.host}/dmd/secret:v1`, '--path', dir, '-o', 'markdown']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('| modified | <code>v1 Secret prod/db</code> | <code>secret.yaml</code> | <code>stringData.token</code> |');
    expect(r.stdout).toContain('<details><summary>secret.yaml (+1 −1)</summary>\n\nholds a Kubernetes Secret: diff not shown');
    expect(r.stdout).not.toMatch(/hunter2|correct-horse/);
  });

  it('names a tag that does not exist yet with --missing-as-changed', async () => {
    const r = await runCli(['diff', `oci://${registry.host}/dmd/new-app:v1`, '--path', changed, '--missing-as-changed', '-o', 'markdown']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.split('\n')[0]).toContain('dmd/new-app:v1</code> (does not exist) →');
    expect(r.stdout).toContain('**Files:** 3 added');
  });
});

describe('diff under GitHub Actions', () => {
  it('appends the review to $GITHUB_STEP_SUMMARY, keeping what earlier steps wrote, whatever -o prints', async () => {
    const summary = join(work.path, 'step-summary.md');
    await writeFile(summary, '### an earlier step\n\n');
    const r = await runCli(['diff', artifact(), '--path', changed, '-o', 'json'], {
      env: { GITHUB_ACTIONS: 'true', CI: 'true', GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.code, r.stderr).toBe(1);
    // stdout is the JSON result as without Actions: no patches, no objects (neither --unified nor --semantic).
    const json = JSON.parse(r.stdout);
    expect(json.summary).toEqual({ added: 1, removed: 0, modified: 2, modeChanged: 0 });
    expect(json.patches).toBeUndefined();
    expect(json.semantic).toBeUndefined();
    const written = await readFile(summary, 'utf8');
    expect(written.startsWith('### an earlier step\n\n### oci-artifact diff: ')).toBe(true);
    expect(written).toContain('<details><summary>deploy.yaml (+1 −1)</summary>');

    const again = await runCli(['diff', artifact(), '--path', changed, '--brief'], {
      env: { GITHUB_ACTIONS: 'true', CI: 'true', GITHUB_STEP_SUMMARY: summary },
    });
    expect(again.code, again.stderr).toBe(1);
    expect(again.stdout).toBe('NOTES.md\ndeploy.yaml\nlogo.bin\n');
    expect((await readFile(summary, 'utf8')).split('### oci-artifact diff: ')).toHaveLength(3);
  });

  it('a summary that cannot be written is a warning; the diff and its exit status stand', async () => {
    const r = await runCli(['diff', artifact(), '--path', changed], {
      env: { GITHUB_ACTIONS: 'true', CI: 'true', GITHUB_STEP_SUMMARY: join(work.path, 'no-such-dir', 'summary.md') },
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('modified  deploy.yaml\n');
    expect(r.stderr).toMatch(/could not append to \$GITHUB_STEP_SUMMARY: .*ENOENT/);
  });

  it('writes no summary outside GitHub Actions', async () => {
    const summary = join(work.path, 'not-actions.md');
    await writeFile(summary, 'kept\n');
    const r = await runCli(['diff', artifact(), '--path', changed], { env: { GITHUB_STEP_SUMMARY: summary } });
    expect(r.code, r.stderr).toBe(1);
    expect(await readFile(summary, 'utf8')).toBe('kept\n');
  });
});
