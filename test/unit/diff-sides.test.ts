import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLocalSide } from '../../src/ops/support/diff-sides.js';

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
