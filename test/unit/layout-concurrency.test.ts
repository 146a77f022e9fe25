import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withLock } from '../../src/layout/lock.js';
import { openLayoutRepository } from '../../src/layout/repository.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import { digestOf } from '../../src/ref/digest.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'layout-conc-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const manifest = (name: string): Buffer =>
  Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciEmpty, digest: digestOf('{}'), size: 2 },
    layers: [],
    annotations: { name },
  }));

const tagNames = (prefix: string): string[] => Array.from({ length: 20 }, (_, i) => `${prefix}-${i}`);

describe('two writers on one layout', () => {
  it('in one process (Promise.all, every put in flight at once) lose no entry', async () => {
    const path = join(dir, 'store');
    const [a, b] = await Promise.all([
      openLayoutRepository({ kind: 'layout', path }, { create: true }),
      openLayoutRepository({ kind: 'layout', path }, { create: true }),
    ]);
    await Promise.all([
      ...tagNames('a').map((tag) => a.putManifest(tag, manifest(tag), MediaType.OciManifest)),
      ...tagNames('b').map((tag) => b.putManifest(tag, manifest(tag), MediaType.OciManifest)),
    ]);
    const tags = await a.listTags();
    expect(tags).toHaveLength(40);
    expect(tags).toEqual([...tagNames('a'), ...tagNames('b')].sort());
    for (const tag of ['a-7', 'b-19']) expect((await b.getManifest(tag)).digest).toBe(digestOf(manifest(tag)));
  });

  it('in two child processes, both creating the layout, lose no entry', async () => {
    const code = join(dir, 'code');
    await transpileClosure(resolve('src/layout/repository.ts'), resolve('.'), code);
    const child = join(code, 'child.mjs');
    await writeFile(child, [
      "import { openLayoutRepository } from './src/layout/repository.js';",
      'const [path, prefix] = process.argv.slice(2);',
      "const repo = await openLayoutRepository({ kind: 'layout', path }, { create: true });",
      'for (let i = 0; i < 20; i++) {',
      '  const tag = `${prefix}-${i}`;',
      `  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: '${MediaType.OciManifest}', config: { mediaType: '${MediaType.OciEmpty}', digest: '${digestOf('{}')}', size: 2 }, layers: [], annotations: { name: tag } }));`,
      `  await repo.putManifest(tag, bytes, '${MediaType.OciManifest}');`,
      '}',
    ].join('\n'));
    const path = join(dir, 'shared');
    const run = promisify(execFile);
    await Promise.all(['p', 'q'].map((prefix) => run(process.execPath, [child, path, prefix], { timeout: 30_000 })));

    const repo = await openLayoutRepository({ kind: 'layout', path });
    expect(await repo.listTags()).toEqual([...tagNames('p'), ...tagNames('q')].sort());
    expect((await repo.getManifest('q-3')).bytes.equals(manifest('q-3'))).toBe(true);
    expect((await readdir(path)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });
});

describe('the index lock', () => {
  it('takes over a stale lock left by a dead process', async () => {
    const path = join(dir, 'store');
    const repo = await openLayoutRepository({ kind: 'layout', path }, { create: true, lock: { staleMs: 1_000, timeoutMs: 5_000 } });
    const lock = join(path, 'index.json.lock');
    await writeFile(lock, '999999@gone\n');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await repo.putManifest('v1', manifest('v1'), MediaType.OciManifest);
    expect(await repo.listTags()).toEqual(['v1']);
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(path)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  it('waits a bounded time for a live lock, then says LAYOUT_LOCKED and leaves it alone', async () => {
    const path = join(dir, 'store');
    const repo = await openLayoutRepository({ kind: 'layout', path }, { create: true, lock: { staleMs: 60_000, timeoutMs: 300 } });
    const lock = join(path, 'index.json.lock');
    await writeFile(lock, 'someone else\n');
    const started = Date.now();
    await expect(repo.putManifest('v1', manifest('v1'), MediaType.OciManifest)).rejects.toMatchObject({ code: 'LAYOUT_LOCKED', kind: 'usage' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await readFile(lock, 'utf8')).toBe('someone else\n');
    expect(await repo.listTags()).toEqual([]);
  });

  it('a holder whose lock was taken over as stale leaves the new holder\'s lock in place', async () => {
    const lock = join(dir, 'index.json.lock');
    await withLock(lock, async () => {
      await unlink(lock); // what a waiter's stale-lock removal does
      await writeFile(lock, 'new holder\n');
    });
    expect(await readFile(lock, 'utf8')).toBe('new holder\n');
    await withLock(join(dir, 'other.lock'), async () => undefined);
    expect(await readdir(dir)).toEqual(['index.json.lock']);
  });

  it('stops waiting when the signal aborts', async () => {
    const path = join(dir, 'store');
    const repo = await openLayoutRepository({ kind: 'layout', path }, { create: true, lock: { staleMs: 60_000, timeoutMs: 10_000 } });
    await writeFile(join(path, 'index.json.lock'), 'someone else\n');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user gave up')), 100);
    await expect(repo.putManifest('v1', manifest('v1'), MediaType.OciManifest, { signal: controller.signal })).rejects.toThrow('user gave up');
  });
});

/**
 * Node 20 cannot run TypeScript, so the child processes get the real sources transpiled (types erased, nothing
 * else changed): `entry` and every module it imports by relative path.
 */
async function transpileClosure(entry: string, base: string, outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}');
  const pending = [entry];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = await readFile(file, 'utf8');
    const output = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const target = join(outDir, relative(base, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, output);
    for (const match of output.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      pending.push(resolve(dirname(file), `${match[1]}.ts`));
    }
  }
}
