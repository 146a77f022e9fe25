import { chmod, mkdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, snapshotTree } from '../helpers/cli.js';
import { PROVENANCE, useWorkDir } from '../helpers/fixtures.js';

// What `pull -o DIR` does to the directory it writes into, on the built CLI, from an OCI layout on disk.

const work = useWorkDir('oa-pull-output-');

/** Push `tree` (relative path -> content, or [content, mode]) into the layout under `tag`; returns the reference. */
async function pushTree(tag: string, tree: Record<string, string | [string, number]>): Promise<string> {
  const dir = join(work.path, 'trees', tag);
  for (const [path, spec] of Object.entries(tree)) {
    const [content, mode] = typeof spec === 'string' ? [spec, 0o644] : spec;
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
    await chmod(join(dir, path), mode);
  }
  const ref = `oci-layout://${join(work.path, 'layout')}:${tag}`;
  const r = await runCli(['push', ref, '-f', dir, ...PROVENANCE]);
  expect(r.code, r.stderr).toBe(0);
  return ref;
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

describe('pull honours the umask', () => {
  let ref: string;
  beforeAll(async () => {
    ref = await pushTree('modes', {
      'run.sh': ['#!/bin/sh\n', 0o755],
      'app/deploy.yaml': ['kind: Deployment\n', 0o644],
      'app/secret.yaml': ['kind: Secret\n', 0o600],
    });
  });

  it.each([
    ['077', 0o077, { dir: 0o700, exec: 0o700, file: 0o600, secret: 0o600 }],
    ['022', 0o022, { dir: 0o755, exec: 0o755, file: 0o644, secret: 0o600 }],
  ])('umask %s: modes from the archive less the umask, the executable bit kept', async (_label, umask, want) => {
    const out = join(work.path, `out-${umask.toString(8)}`);
    const r = await runCli(['pull', ref, '-o', out], { umask });
    expect(r.code, r.stderr).toBe(0);
    expect({
      root: await modeOf(out),
      dir: await modeOf(join(out, 'app')),
      exec: await modeOf(join(out, 'run.sh')),
      file: await modeOf(join(out, 'app/deploy.yaml')),
      secret: await modeOf(join(out, 'app/secret.yaml')),
    }).toEqual({ root: want.dir, ...want });
  });
});

describe('what push writes, pull reads', () => {
  it('push refuses a file name that pull (and Flux) would refuse, naming it, with exit 2', async () => {
    const dir = join(work.path, 'trees', 'backslash');
    await mkdir(join(dir, 'base'), { recursive: true });
    await writeFile(join(dir, 'base', 'ok.yaml'), 'a: 1\n');
    await writeFile(join(dir, 'base', 'win\\style.yaml'), 'b: 2\n');
    const r = await runCli(['push', `oci-layout://${join(work.path, 'layout')}:backslash`, '-f', dir, ...PROVENANCE]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("cannot pack 'base/win\\style.yaml': the path contains a backslash");
    expect(r.stderr).toContain('--ignore-paths');
  });
});

describe('pull into a directory that has files', () => {
  it("overwrites the artifact's files and keeps the user's own, also inside the artifact's directories", async () => {
    const ref = await pushTree('merge', { 'base/app.yaml': 'from: artifact\n', 'top.yaml': 'new\n' });
    const out = join(work.path, 'out-merge');
    await mkdir(join(out, 'base'), { recursive: true });
    await writeFile(join(out, 'base', 'mine.yaml'), 'mine\n');
    await writeFile(join(out, 'base', 'app.yaml'), 'old\n');
    await writeFile(join(out, 'notes.txt'), 'mine too\n');
    const r = await runCli(['pull', ref, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(await snapshotTree(out)).toEqual({
      'base/': 'dir',
      'base/app.yaml': fileOf('from: artifact\n'),
      'base/mine.yaml': fileOf('mine\n'),
      'notes.txt': fileOf('mine too\n'),
      'top.yaml': fileOf('new\n'),
    });
  });

  it('a file where the artifact has a directory: exit 2 naming it, nothing changed', async () => {
    const ref = await pushTree('conflict', { 'base/app.yaml': 'a\n', 'top.yaml': 'new\n' });
    const out = join(work.path, 'out-conflict');
    await mkdir(out);
    await writeFile(join(out, 'base'), 'a file named like the directory\n');
    await writeFile(join(out, 'top.yaml'), 'old\n');
    const before = await snapshotTree(out);
    const r = await runCli(['pull', ref, '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'base' is a file there, where the artifact has a directory; nothing was changed");
    expect(await snapshotTree(out)).toEqual(before);
  });
});

describe('two pulls into one directory at the same time', () => {
  it('end with exactly one artifact, never a mix (6 rounds)', async () => {
    // Same names, different contents: a mix would show files of both. Many top-level files make the move phase long.
    const names = Array.from({ length: 1500 }, (_, i) => `f${String(i).padStart(4, '0')}.yaml`);
    const treeA = Object.fromEntries(names.map((n) => [n, `artifact: a\n`]));
    const treeB = Object.fromEntries(names.map((n) => [n, `artifact: b\n`]));
    const [refA, refB] = [await pushTree('race-a', treeA), await pushTree('race-b', treeB)];
    const expected = async (tree: Record<string, string>): Promise<Record<string, string>> =>
      Object.fromEntries(Object.entries(tree).map(([n, c]) => [n, fileOf(c)]));
    const [wantA, wantB] = [await expected(treeA), await expected(treeB)];
    for (let round = 0; round < 6; round++) {
      const out = join(work.path, `out-race-${round}`);
      const [a, b] = await Promise.all([runCli(['pull', refA, '-o', out]), runCli(['pull', refB, '-o', out])]);
      expect([a.code, b.code], `${a.stderr}\n${b.stderr}`).toEqual([0, 0]);
      const tree = await snapshotTree(out);
      expect([wantA, wantB], `round ${round}: a mix of both artifacts`).toContainEqual(tree);
    }
  }, 240_000); // 12 pulls of 1,500 files: seconds on an idle machine, a minute or more on a loaded one
});

describe('an output path that is a symbolic link', () => {
  it('pull -o LINK to a missing directory: exit 2, one line naming the link, nothing created', async () => {
    const ref = await pushTree('link', { 'a.yaml': 'a\n' });
    const link = join(work.path, 'dangling-out');
    await symlink(join(work.path, 'no-such-dir'), link);
    const r = await runCli(['pull', ref, '-o', link]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`output path '${link}' is a symbolic link to '${join(work.path, 'no-such-dir')}', which does not exist`);
    expect(await readlink(link)).toBe(join(work.path, 'no-such-dir'));
  });

  it('pull -o LINK to a directory extracts into that directory', async () => {
    const ref = await pushTree('link-ok', { 'a.yaml': 'a\n' });
    const real = join(work.path, 'link-target');
    await mkdir(real);
    await symlink(real, join(work.path, 'good-link'));
    const r = await runCli(['pull', ref, '-o', join(work.path, 'good-link')]);
    expect(r.code, r.stderr).toBe(0);
    expect(await snapshotTree(real)).toEqual({ 'a.yaml': fileOf('a\n') });
  });
});

describe('build -o LINK', () => {
  it('writes where the link points when that directory exists, keeping the link', async () => {
    const dir = join(work.path, 'build-link');
    await mkdir(dir);
    await writeFile(join(dir, 'a.yaml'), 'a: 1\n');
    await symlink(join(dir, 'real.tgz'), join(dir, 'out.tgz'));
    const r = await runCli(['build', '-f', join(dir, 'a.yaml'), '-o', join(dir, 'out.tgz')]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readlink(join(dir, 'out.tgz'))).toBe(join(dir, 'real.tgz'));
    expect((await stat(join(dir, 'real.tgz'))).size).toBeGreaterThan(0);
  });

  it('a link into a missing directory: exit 2, one line naming both, the link left alone', async () => {
    const dir = join(work.path, 'build-dangling');
    await mkdir(dir);
    await writeFile(join(dir, 'a.yaml'), 'a: 1\n');
    await symlink(join(dir, 'missing', 'x.tgz'), join(dir, 'out.tgz'));
    const r = await runCli(['build', '-f', join(dir, 'a.yaml'), '-o', join(dir, 'out.tgz')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`is a symbolic link to '${join(dir, 'missing', 'x.tgz')}', whose directory does not exist`);
    expect(await readlink(join(dir, 'out.tgz'))).toBe(join(dir, 'missing', 'x.tgz'));
  });
});

function fileOf(content: string): string {
  return `644:${Buffer.from(content).toString('base64')}`;
}
