import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
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
