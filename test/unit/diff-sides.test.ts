import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { push } from '../../src/ops/push.js';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { loadArtifactSide, loadLocalSide, resolveArtifactSide } from '../../src/ops/support/diff-sides.js';
import { parseLayoutReference } from '../../src/ref/reference.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('loadLocalSide', () => {
  it('lists every packed file but reads only those keepContent asks for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oci-artifact-diff-sides-'));
    dirs.push(dir);
    await writeFile(join(dir, 'a.yaml'), 'kind: A\n');
    await writeFile(join(dir, 'big.bin'), Buffer.alloc(2048, 1));
    const asked: Array<[string, number]> = [];
    const side = await loadLocalSide(dir, {
      keepContent: (path, size) => {
        asked.push([path, size]);
        return size < 1024;
      },
    });
    expect(side.files.map((f) => f.path).sort()).toEqual(['a.yaml', 'big.bin']);
    expect((await side.read('a.yaml'))?.toString()).toBe('kind: A\n');
    expect(await side.read('big.bin')).toBeUndefined();
    expect(await side.read('absent.yaml')).toBeUndefined();
    expect(asked).toEqual([['a.yaml', 8], ['big.bin', 2048]]);
  });
});

describe('loadArtifactSide', () => {
  const signal = new AbortController().signal;
  const content = (name: string): string => `${name}: ${'x'.repeat(90)}\n`;

  /** An artifact of four 100-byte files in an OCI layout, opened as diff opens it. */
  async function artifact() {
    const dir = await mkdtemp(join(tmpdir(), 'oci-artifact-diff-sides-'));
    dirs.push(dir);
    await mkdir(join(dir, 'tree'));
    for (const name of ['a.txt', 'b.txt', 'c.txt', 'd.yaml']) await writeFile(join(dir, 'tree', name), content(name));
    const ref = parseLayoutReference(`oci-layout://${join(dir, 'layout')}:v1`);
    await push({ ref, path: 'tree', source: 'https://example.invalid/repo', revision: 'main@sha1:abc' }, { signal, repositoryOptions: {}, cwd: dir });
    const repo = await openRepository(ref, { signal });
    return { repo, side: await resolveArtifactSide(repo, ref, signal) };
  }

  it('holds patch content while it fits the budget, so hold has nothing to read back', async () => {
    const { repo, side } = await artifact();
    const loaded = await loadArtifactSide(repo, side, { keepContent: () => false, patchContent: () => true, heldBytes: 1000, signal });
    await loaded.hold?.([]);
    for (const name of ['a.txt', 'b.txt', 'c.txt', 'd.yaml']) expect((await loaded.read(name))?.toString()).toBe(content(name));
    await repo.close();
  });

  it('past the budget it lets go of patch content and holds only what hold asks for, read back from the layer', async () => {
    const { repo, side } = await artifact();
    const loaded = await loadArtifactSide(repo, side, {
      keepContent: (path) => path.endsWith('.yaml'),
      patchContent: () => true,
      heldBytes: 150,
      signal,
    });
    expect(loaded.files.map((f) => f.path).sort()).toEqual(['a.txt', 'b.txt', 'c.txt', 'd.yaml']);
    // Content a semantic diff needs is held whatever the budget; patch content is not, until asked for.
    expect((await loaded.read('d.yaml'))?.toString()).toBe(content('d.yaml'));
    expect(await loaded.read('a.txt')).toBeUndefined();
    await loaded.hold?.(['a.txt', 'b.txt']);
    expect((await loaded.read('a.txt'))?.toString()).toBe(content('a.txt'));
    expect((await loaded.read('b.txt'))?.toString()).toBe(content('b.txt'));
    expect(await loaded.read('c.txt')).toBeUndefined();
    // The next batch replaces the last one.
    await loaded.hold?.(['c.txt']);
    expect(await loaded.read('a.txt')).toBeUndefined();
    expect((await loaded.read('c.txt'))?.toString()).toBe(content('c.txt'));
    expect((await loaded.read('d.yaml'))?.toString()).toBe(content('d.yaml'));
    await repo.close();
  });
});
