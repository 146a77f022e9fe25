import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { listLocalFiles, packArtifact } from '../../src/artifact/pack.js';
import { parseSourceSpec, type PackInput } from '../../src/artifact/sources.js';
import { OciError } from '../../src/errors.js';

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'oa-sources-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function write(rel: string, content = rel, mode?: number): Promise<string> {
  const path = join(work, rel);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  if (mode !== undefined) await chmod(path, mode);
  return path;
}

async function pack(input: PackInput): Promise<Buffer> {
  const packed = packArtifact(input);
  const chunks: Buffer[] = [];
  for await (const chunk of packed.stream) chunks.push(chunk as Buffer);
  await packed.summary;
  return Buffer.concat(chunks);
}

/** Entries as node-tar (an independent reader) sees them. */
async function entries(gz: Buffer): Promise<Array<{ path: string; type: string; mode: number }>> {
  const out: Array<{ path: string; type: string; mode: number }> = [];
  const parser = new Parser({ strict: true });
  parser.on('entry', (entry: ReadEntry) => {
    out.push({ path: entry.path, type: entry.type, mode: entry.mode ?? -1 });
    entry.resume();
  });
  await new Promise<void>((done, reject) => {
    parser.on('end', done);
    parser.on('error', reject);
    parser.end(gz);
  });
  return out;
}

const failure = async (promise: Promise<unknown>): Promise<OciError> => {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OciError);
  return err as OciError;
};

describe('parseSourceSpec: SRC[:DEST]', () => {
  it('splits at the last colon when the whole argument is not an existing path', async () => {
    await write('apps/web/a.yaml');
    expect(parseSourceSpec('apps/web', work)).toEqual({ path: 'apps/web', dest: '' });
    expect(parseSourceSpec('apps/web:web', work)).toEqual({ path: 'apps/web', dest: 'web' });
    expect(parseSourceSpec('apps/web:./x/y/', work)).toEqual({ path: 'apps/web', dest: 'x/y' });
    expect(parseSourceSpec('apps/web:.', work)).toEqual({ path: 'apps/web', dest: '' });
    expect(parseSourceSpec('a:b:c', work)).toEqual({ path: 'a:b', dest: 'c' });
  });

  it('takes an existing path with a colon in its name whole', async () => {
    await write('odd:name/a.yaml');
    expect(parseSourceSpec('odd:name', work)).toEqual({ path: 'odd:name', dest: '' });
    expect(parseSourceSpec('odd:name:inside', work)).toEqual({ path: 'odd:name', dest: 'inside' });
  });

  it('refuses a destination that is not a relative path inside the artifact', () => {
    for (const spec of ['apps:/etc', 'apps:../up', 'apps:a/../../b', 'C:\\deploy', 'apps:D:/x']) {
      expect(() => parseSourceSpec(spec, work), spec).toThrow(expect.objectContaining({ code: 'SOURCE_DEST_INVALID', kind: 'usage' }));
    }
  });
});

describe('several sources in one artifact', () => {
  it('places each source under its destination, in walk order, whatever order they were given in', async () => {
    await write('apps/web/deploy.yaml');
    await write('apps/web/sub/svc.yaml');
    await write('crds/crd.yaml');
    await write('extra/config.yaml');
    const sources = [
      { path: join(work, 'apps/web'), dest: 'web' },
      { path: join(work, 'crds'), dest: '' },
      { path: join(work, 'extra/config.yaml'), dest: 'web/conf' },
    ];
    const gz = await pack(sources);
    expect((await entries(gz)).map((e) => e.path)).toEqual([
      '.', 'crd.yaml', 'web', 'web/conf', 'web/conf/config.yaml', 'web/deploy.yaml', 'web/sub', 'web/sub/svc.yaml',
    ]);
    expect((await pack([...sources].reverse())).equals(gz)).toBe(true);
    expect((await pack([sources[2]!, sources[0]!, sources[1]!])).equals(gz)).toBe(true);
    expect((await pack(sources)).equals(gz), 'the same input twice gives the same bytes').toBe(true);
  });

  it('merges sources in Go walk order: `a/b` before `a-c`, names by UTF-8 bytes also above U+FFFF', async () => {
    for (const rel of ['one/a/b.yaml', 'one/\u{1F600}.yaml', 'two/a-c.yaml', 'two/\uFB01.yaml', 'two/a.yaml']) await write(rel);
    const gz = await pack([{ path: join(work, 'two'), dest: '' }, { path: join(work, 'one'), dest: '' }]);
    expect((await entries(gz)).map((e) => e.path)).toEqual(['.', 'a', 'a/b.yaml', 'a-c.yaml', 'a.yaml', '\uFB01.yaml', '\u{1F600}.yaml']);
  });

  it("keeps a source's own directory modes; shared and made-up directories are 0755", async () => {
    await write('a/x/one.yaml');
    await write('b/x/two.yaml');
    await write('c/only.yaml');
    await chmod(join(work, 'a/x'), 0o700);
    await chmod(join(work, 'c'), 0o750);
    const modes = Object.fromEntries((await entries(await pack([
      { path: join(work, 'a'), dest: '' },
      { path: join(work, 'b'), dest: '' },
      { path: join(work, 'c'), dest: 'deep/c' },
    ]))).map((e) => [e.path, e.mode]));
    expect(modes).toMatchObject({ '.': 0o755, x: 0o755, deep: 0o755, 'deep/c': 0o750 });
  });

  it('packs a single source at the root exactly as the plain path', async () => {
    await write('tree/a.yaml');
    await chmod(join(work, 'tree'), 0o700);
    expect((await pack([{ path: join(work, 'tree'), dest: '' }])).equals(await pack(join(work, 'tree')))).toBe(true);
  });

  it('refuses two sources that put a file at the same path, naming both', async () => {
    await write('a/same.yaml');
    await write('b/same.yaml');
    const err = await failure(pack([{ path: join(work, 'a'), dest: 'x' }, { path: join(work, 'b'), dest: 'x' }]));
    expect(err).toMatchObject({ code: 'SOURCE_CONFLICT', kind: 'usage' });
    expect(err.message).toContain("both put 'x/same.yaml' in the artifact");
    expect(err.message).toContain(`-f ${join(work, 'a')}:x`);
    expect(err.message).toContain(`-f ${join(work, 'b')}:x`);
  });

  it('refuses a file where another source has a directory, and the same source given twice', async () => {
    await write('a/x/inner.yaml');
    await write('b/x');
    expect(await failure(pack([{ path: join(work, 'a'), dest: '' }, { path: join(work, 'b'), dest: '' }]))).toMatchObject({ code: 'SOURCE_CONFLICT' });
    expect(await failure(pack([{ path: join(work, 'a'), dest: '' }, { path: join(work, 'a'), dest: '' }]))).toMatchObject({ code: 'SOURCE_CONFLICT' });
  });

  it("applies each source's own .sourceignore relative to that source", async () => {
    await write('a/keep.yaml');
    await write('a/secret.env');
    await write('a/.sourceignore', '*.env\n');
    await write('b/secret.env');
    const onDisk = new Map<string, string>();
    const files = await listLocalFiles([{ path: join(work, 'a'), dest: 'a' }, { path: join(work, 'b'), dest: 'b' }], {}, onDisk);
    expect(files.map((f) => f.path)).toEqual(['a/.sourceignore', 'a/keep.yaml', 'b/secret.env']);
    expect(onDisk.get('a/keep.yaml')).toBe(join(work, 'a/keep.yaml'));
  });

  it('refuses a missing source by the name it was given', async () => {
    await write('a/x.yaml');
    const err = await failure(pack([{ path: join(work, 'a'), dest: '' }, { path: join(work, 'nope'), dest: 'n' }]));
    expect(err).toMatchObject({ code: 'PATH_NOT_FOUND' });
  });
});
