import { randomBytes } from 'node:crypto';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { chmod, chown, cp, lchown, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { listLocalFiles, packArtifact, writeArchiveFile, type PackOptions } from '../../src/artifact/pack.js';
import { readArchiveEntries } from '../../src/artifact/archive-entries.js';
import { extractArchive } from '../../src/artifact/unpack.js';
import { DEFAULT_IGNORE_PATTERNS } from '../../src/artifact/ignore.js';
import { encodeTarHeader } from '../../src/artifact/tar-header.js';
import { OciError } from '../../src/errors.js';
import { digestOf } from '../../src/ref/digest.js';

const FIXTURE = resolve('fixtures/kustomize');

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'oa-pack-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function packToBuffer(path: string, options: PackOptions = {}): Promise<{ gz: Buffer; diffId: string; files: number; uncompressedSize: number }> {
  const packed = packArtifact(path, options);
  const chunks: Buffer[] = [];
  for await (const chunk of packed.stream) chunks.push(chunk as Buffer);
  const summary = await packed.summary;
  return { gz: Buffer.concat(chunks), ...summary };
}

/** Entries as node-tar (an independent reader) sees them: name, type, mode, uid/gid, mtime, owner names. */
async function tarEntries(gz: Buffer): Promise<Array<{ path: string; type: string; mode: number; uid: number; gid: number; mtime: number; uname: string }>> {
  const out: Array<{ path: string; type: string; mode: number; uid: number; gid: number; mtime: number; uname: string }> = [];
  const parser = new Parser({ strict: true });
  parser.on('entry', (entry: ReadEntry) => {
    out.push({
      path: entry.path,
      type: entry.type,
      mode: entry.mode ?? -1,
      uid: entry.uid ?? -1,
      gid: entry.gid ?? -1,
      mtime: entry.mtime?.getTime() ?? -1,
      uname: entry.uname ?? '',
    });
    entry.resume();
  });
  await new Promise<void>((resolveEnd, reject) => {
    parser.on('end', resolveEnd);
    parser.on('error', reject);
    parser.end(gz);
  });
  return out;
}

const names = async (gz: Buffer): Promise<string[]> => (await tarEntries(gz)).map((e) => e.path);

describe('packArtifact: the Flux tar layout', () => {
  it('writes a `.` root, Go walk order, zeroed owners and times, kept modes', async () => {
    const { gz, files } = await packToBuffer(FIXTURE);
    const entries = await tarEntries(gz);
    expect(entries.map((e) => e.path)).toEqual([
      '.',
      '.sourceignore',
      'README.md',
      'base',
      'base/config',
      'base/config/settings.yaml',
      'base/deployment.yaml',
      'base/kustomization.yaml',
      'base/namespace.yaml',
      'base/service.yaml',
      'docs', // kept, empty: its only file is a .png
      'overlays',
      'overlays/production',
      'overlays/production/hpa.yaml',
      'overlays/production/kustomization.yaml',
      'overlays/production/replicas.yaml',
      'overlays/production/resources.yaml',
      'overlays/staging',
      'overlays/staging/kustomization.yaml',
      'overlays/staging/replicas.yaml',
      'scripts',
      'scripts/render.sh',
    ]);
    expect(files).toBe(14);
    for (const entry of entries) {
      expect([entry.uid, entry.gid, entry.mtime, entry.uname]).toEqual([0, 0, 0, '']);
    }
    const render = entries.find((e) => e.path === 'scripts/render.sh')!;
    expect(render.mode).toBe((await stat(join(FIXTURE, 'scripts/render.sh'))).mode & 0o7777);
    expect(render.mode & 0o111).not.toBe(0);
  });

  it('lays out headers as Go archive/tar does (USTAR, octal zero device numbers, two zero blocks at the end)', async () => {
    await writeFile(join(work, 'a.yaml'), 'a: 1\n');
    await chmod(work, 0o755);
    await chmod(join(work, 'a.yaml'), 0o644);
    const tar = gunzipSync((await packToBuffer(work)).gz);
    expect(tar.length).toBe(512 + 512 + 512 + 1024);
    const root = tar.subarray(0, 512);
    const field = (block: Buffer, start: number, end: number): string => block.subarray(start, end).toString('latin1');
    expect(field(root, 0, 2)).toBe('.\0');
    expect(field(root, 100, 108)).toBe('0000755\0');
    expect(field(root, 108, 124)).toBe('0000000\x000000000\0');
    expect(field(root, 124, 148)).toBe('00000000000\x0000000000000\0');
    expect(field(root, 156, 157)).toBe('5');
    expect(field(root, 257, 265)).toBe('ustar\x0000');
    expect(field(root, 265, 329)).toBe('\0'.repeat(64));
    expect(field(root, 329, 345)).toBe('0000000\x000000000\0');
    expect(field(root, 154, 156)).toBe('\0 ');
    const file = tar.subarray(512, 1024);
    expect(field(file, 0, 7)).toBe('a.yaml\0');
    expect(field(file, 124, 136)).toBe('00000000005\0');
    expect(field(file, 156, 157)).toBe('0');
    expect(tar.subarray(1024, 1029).toString()).toBe('a: 1\n');
    expect(tar.subarray(1536).equals(Buffer.alloc(1024))).toBe(true);
  });

  it('sorts names per directory by bytes, like Go: `a/b` before `a-c`, upper case first', async () => {
    await mkdir(join(work, 'a'));
    for (const name of ['a-c', 'a.txt', 'B', 'a/b', 'é', 'z']) await writeFile(join(work, name), name);
    expect(await names((await packToBuffer(work)).gz)).toEqual(['.', 'B', 'a', 'a/b', 'a-c', 'a.txt', 'z', 'é']);
  });

  it('sorts a name above U+FFFF by its UTF-8 bytes too: U+FB01 before U+1F600, though its UTF-16 units sort after', async () => {
    for (const name of ['\u{1F600}.yaml', '\uFB01.yaml', 'z.yaml', '\u00E9.yaml']) await writeFile(join(work, name), name);
    expect(await names((await packToBuffer(work)).gz)).toEqual(['.', 'z.yaml', '\u00E9.yaml', '\uFB01.yaml', '\u{1F600}.yaml']);
  });

  it('uses the USTAR prefix for long ASCII names and PAX for others, and both read back', async () => {
    const longDir = `${'nested-directory/'.repeat(7)}leaf`;
    await mkdir(join(work, longDir), { recursive: true });
    const longFile = `${longDir}/${'f'.repeat(90)}.yaml`;
    await writeFile(join(work, longFile), 'long\n');
    await writeFile(join(work, 'configmap-ünïcödé.yaml'), 'utf8\n');
    const { gz } = await packToBuffer(work);
    const listed = await names(gz);
    expect(listed).toContain(longFile);
    expect(listed).toContain('configmap-ünïcödé.yaml');
    const out = join(work, '..', `${work.split('/').pop()}-out`);
    try {
      await extractArchive(Readable.from([gz]), out);
      expect(await readFile(join(out, longFile), 'utf8')).toBe('long\n');
      expect(await readFile(join(out, 'configmap-ünïcödé.yaml'), 'utf8')).toBe('utf8\n');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    const pax = encodeTarHeader({ name: 'configmap-ünïcödé.yaml', type: 'file', mode: 0o644, size: 5 });
    expect(pax.length).toBe(1536);
    expect(pax.subarray(0, 100).toString('latin1').replace(/\0+$/, '')).toBe('PaxHeaders.0/configmap-ncd.yaml');
    expect(pax.subarray(156, 157).toString()).toBe('x');
  });
});

describe('packArtifact: reproducibility', () => {
  it('packs the same tree to the same bytes twice', async () => {
    const first = await packToBuffer(FIXTURE);
    const second = await packToBuffer(FIXTURE);
    expect(digestOf(second.gz)).toBe(digestOf(first.gz));
    expect(second.diffId).toBe(first.diffId);
    expect(first.diffId).toBe(digestOf(gunzipSync(first.gz)));
    expect(first.uncompressedSize).toBe(gunzipSync(first.gz).length);
  });

  it('packs a copy made in another order, with other mtimes and owners, to the same bytes', async () => {
    const copy = join(work, 'copy');
    // Copy entries in reverse order so the directory listing order on disk differs (drafts/ stays out: .sourceignore).
    const files = await listLocalFiles(FIXTURE, { ignorePaths: [] });
    for (const file of [...files].reverse()) {
      await mkdir(join(copy, file.path, '..'), { recursive: true });
      await cp(join(FIXTURE, file.path), join(copy, file.path));
      await chmod(join(copy, file.path), file.mode);
      await utimes(join(copy, file.path), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
      if (process.getuid?.() === 0) await chown(join(copy, file.path), 1234, 5678);
    }
    for (const dir of ['', 'base', 'base/config', 'docs', 'overlays', 'overlays/production', 'overlays/staging', 'scripts']) {
      await chmod(join(copy, dir), (await stat(join(FIXTURE, dir))).mode & 0o7777);
      if (process.getuid?.() === 0) await lchown(join(copy, dir), 4321, 8765);
    }
    const original = await packToBuffer(FIXTURE);
    const copied = await packToBuffer(copy);
    expect(copied.diffId).toBe(original.diffId);
    expect(digestOf(copied.gz)).toBe(digestOf(original.gz));
  });

  it('changes the digest when a mode or a byte changes', async () => {
    await writeFile(join(work, 'a.sh'), 'echo hi\n');
    await chmod(join(work, 'a.sh'), 0o644);
    const before = (await packToBuffer(work)).diffId;
    await chmod(join(work, 'a.sh'), 0o755);
    const afterChmod = (await packToBuffer(work)).diffId;
    await writeFile(join(work, 'a.sh'), 'echo ho\n');
    const afterEdit = (await packToBuffer(work)).diffId;
    expect(new Set([before, afterChmod, afterEdit]).size).toBe(3);
  });
});

describe('round trip', () => {
  it('extracting a packed fixture restores the same files and modes', async () => {
    const { gz } = await packToBuffer(FIXTURE);
    const out = join(work, 'out');
    const result = await extractArchive(Readable.from([gz]), out);
    expect(result.files).toBe(14);
    const expected = await listLocalFiles(FIXTURE);
    expect(await listLocalFiles(out)).toEqual(expected);
    expect(expected.map((f) => f.path)).not.toContain('docs/architecture.png');
    expect(expected.map((f) => f.path)).not.toContain('drafts/canary.yaml');
    expect(await readdir(join(out, 'docs'))).toEqual([]);
  });

  it('many files and large files survive the trip (stream back-pressure on both sides)', async () => {
    const tree = join(work, 'tree');
    for (let d = 0; d < 20; d++) {
      await mkdir(join(tree, `dir-${d}`), { recursive: true });
      for (let f = 0; f < 10; f++) {
        const content = Buffer.alloc(d * 5000 + f * 333 + 1, `${d}-${f}|`);
        await writeFile(join(tree, `dir-${d}`, `file-${f}.yaml`), content);
      }
    }
    await writeFile(join(tree, 'big.bin'), Buffer.alloc(3 * 1024 * 1024 + 17, 'abc'));
    const { gz, files } = await packToBuffer(tree);
    expect(files).toBe(201);
    const out = join(work, 'out');
    const result = await extractArchive(Readable.from([gz]), out);
    expect(result.files).toBe(201);
    expect(await listLocalFiles(out)).toEqual(await listLocalFiles(tree));
  });

  it('a slow reader still gets each file\'s own bytes (records share one read buffer, reused only once compressed)', async () => {
    const tree = join(work, 'slow');
    await mkdir(tree);
    // Distinct, poorly compressible contents and more input than the compressor keeps in flight (16 blocks of 128 KiB).
    for (let f = 0; f < 40; f++) {
      const content = Buffer.alloc(100_000 + f * 1000);
      for (let i = 0; i < content.length; i++) content[i] = (i * (f + 7) + (i >> 7) * 13) & 0xff;
      await writeFile(join(tree, `f-${String(f).padStart(2, '0')}.bin`), content);
    }
    const packed = packArtifact(tree);
    const chunks: Buffer[] = [];
    for await (const chunk of packed.stream) {
      chunks.push(chunk as Buffer);
      await new Promise((r) => setTimeout(r, 2));
    }
    const out = join(work, 'slow-out');
    await extractArchive(Readable.from([Buffer.concat(chunks)]), out);
    expect(await listLocalFiles(out)).toEqual(await listLocalFiles(tree));
    expect((await packed.summary).files).toBe(40);
  });

  it('listLocalFiles agrees with the packed archive (what diff compares)', async () => {
    const { gz } = await packToBuffer(FIXTURE);
    const fromArchive = (await readArchiveEntries(Readable.from([gz])))
      .filter((e) => e.type === 'file')
      .map((e) => ({ path: e.path, mode: e.mode, size: e.size, sha256: e.sha256 }));
    expect(fromArchive).toEqual(await listLocalFiles(FIXTURE));
  });
});

describe('ignore rules', () => {
  beforeEach(async () => {
    await mkdir(join(work, '.git/objects'), { recursive: true });
    await writeFile(join(work, '.git/config'), '[core]\n');
    await writeFile(join(work, '.gitignore'), 'tmp/\n');
    await writeFile(join(work, 'logo.png'), 'png');
    await writeFile(join(work, 'bundle.tar.gz'), 'tgz');
    await writeFile(join(work, 'app.yaml'), 'kind: ConfigMap\n');
    await mkdir(join(work, 'secrets'));
    await writeFile(join(work, 'secrets/key.yaml'), 'secret\n');
  });

  const paths = async (options: PackOptions = {}): Promise<string[]> => (await listLocalFiles(work, options)).map((f) => f.path);

  it('applies the Flux defaults', async () => {
    expect(DEFAULT_IGNORE_PATTERNS).toContain('.git/');
    expect(await paths()).toEqual(['app.yaml', 'secrets/key.yaml']);
    expect(await names((await packToBuffer(work)).gz)).toEqual(['.', 'app.yaml', 'secrets', 'secrets/key.yaml']);
  });

  it('ignorePaths replaces the defaults', async () => {
    expect(await paths({ ignorePaths: ['*.yaml'] })).toEqual(['.git/config', '.gitignore', 'bundle.tar.gz', 'logo.png']);
  });

  it('addIgnorePaths appends to the defaults', async () => {
    expect(await paths({ addIgnorePaths: ['secrets/'] })).toEqual(['app.yaml']);
  });

  it('a root .sourceignore is honoured (and packed), with negation', async () => {
    await writeFile(join(work, '.sourceignore'), '# local only\nsecrets/\n*.yaml\n!app.yaml\n');
    expect(await paths()).toEqual(['.sourceignore', 'app.yaml']);
  });
});

describe('symlinks', () => {
  beforeEach(async () => {
    const outside = join(work, 'outside');
    await mkdir(join(outside, 'shared'), { recursive: true });
    await writeFile(join(outside, 'shared/common.yaml'), 'common: true\n');
    await writeFile(join(outside, 'values.yaml'), 'replicas: 2\n');
    const root = join(work, 'root');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'sub/app.yaml'), 'app: 1\n');
    await symlink(join(outside, 'values.yaml'), join(root, 'values.yaml'));
    await symlink(join(outside, 'shared'), join(root, 'shared'));
    await symlink('..', join(root, 'sub/loop')); // a cycle back to the root
  });

  it('are skipped by default', async () => {
    const { gz } = await packToBuffer(join(work, 'root'));
    expect(await names(gz)).toEqual(['.', 'sub', 'sub/app.yaml']);
  });

  it('are copied as their targets with resolveSymlinks, cycles broken', async () => {
    const { gz } = await packToBuffer(join(work, 'root'), { resolveSymlinks: true });
    expect(await names(gz)).toEqual(['.', 'shared', 'shared/common.yaml', 'sub', 'sub/app.yaml', 'sub/loop', 'values.yaml']);
    const entries = await readArchiveEntries(Readable.from([gz]), { keepContent: () => true });
    expect(entries.find((e) => e.path === 'values.yaml')?.content?.toString()).toBe('replicas: 2\n');
    expect(entries.find((e) => e.path === 'sub/loop')?.type).toBe('directory');
  });

  it('a dangling link is an error only when resolving', async () => {
    await symlink(join(work, 'missing'), join(work, 'root/dangling'));
    expect(await names((await packToBuffer(join(work, 'root'))).gz)).not.toContain('dangling');
    const packed = packArtifact(join(work, 'root'), { resolveSymlinks: true });
    packed.stream.resume();
    await expect(packed.summary).rejects.toMatchObject({ code: 'SYMLINK_UNRESOLVABLE', kind: 'usage' });
  });
});

describe('inputs', () => {
  it('packs a single file alone at the root', async () => {
    const file = join(work, 'deployment.yaml');
    await writeFile(file, 'kind: Deployment\n');
    await chmod(file, 0o640);
    const { gz, files } = await packToBuffer(file);
    const entries = await tarEntries(gz);
    expect(entries.map((e) => [e.path, e.type, e.mode])).toEqual([
      ['.', 'Directory', 0o700], // Flux stages a single file in a fresh 0700 temp dir
      ['deployment.yaml', 'File', 0o640],
    ]);
    expect(files).toBe(1);
    expect(await listLocalFiles(file)).toEqual([
      { path: 'deployment.yaml', mode: 0o640, size: 17, sha256: digestOf(Buffer.from('kind: Deployment\n')) },
    ]);
  });

  it('refuses a missing path with a usage error', () => {
    let err: unknown;
    try {
      packArtifact(join(work, 'nope'), {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OciError);
    expect(err).toMatchObject({ code: 'PATH_NOT_FOUND', kind: 'usage' });
  });

  it('listLocalFiles refuses a missing path too', async () => {
    await expect(listLocalFiles(join(work, 'nope'))).rejects.toMatchObject({ code: 'PATH_NOT_FOUND', kind: 'usage' });
  });

  it('stops on abort', async () => {
    const controller = new AbortController();
    const packed = packArtifact(FIXTURE, { signal: controller.signal });
    controller.abort();
    packed.stream.resume();
    await expect(packed.summary).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('packArtifact: stopping half way', () => {
  it('an abort while the stream is read fails both the stream and the summary', async () => {
    const tree = join(work, 'abort');
    await mkdir(tree);
    for (let f = 0; f < 50; f++) await writeFile(join(tree, `f-${f}.yaml`), Buffer.alloc(200_000, `line ${f}\n`));
    const controller = new AbortController();
    const packed = packArtifact(tree, { signal: controller.signal });
    let read = 0;
    const consume = (async () => {
      for await (const chunk of packed.stream) {
        read += (chunk as Buffer).length;
        if (read > 1000) controller.abort(new Error('stop'));
      }
    })();
    await expect(consume).rejects.toMatchObject({ name: 'AbortError' });
    await expect(packed.summary).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a reader that destroys the stream stops the packing', async () => {
    const tree = join(work, 'destroy');
    await mkdir(tree);
    for (let f = 0; f < 50; f++) await writeFile(join(tree, `f-${f}.yaml`), Buffer.alloc(200_000, `line ${f}\n`));
    const packed = packArtifact(tree);
    packed.stream.once('data', () => packed.stream.destroy());
    await expect(packed.summary).rejects.toBeInstanceOf(Error);
  });
});

describe('writeArchiveFile', () => {
  it('writes the archive atomically and leaves itself out when written inside the packed tree', async () => {
    await writeFile(join(work, 'app.yaml'), 'kind: ConfigMap\n');
    const out = join(work, 'artifact.tgz');
    const first = await writeArchiveFile(work, {}, out);
    const bytes = await readFile(out);
    expect(first.digest).toBe(digestOf(bytes));
    expect(first.size).toBe(bytes.length);
    expect(first.files).toBe(1);
    expect(await names(bytes)).toEqual(['.', 'app.yaml']);
    // A second build over the first must not pack the previous artifact or its own temp file.
    const second = await writeArchiveFile(work, {}, out);
    expect(second.digest).toBe(first.digest);
    expect((await readdir(work)).sort()).toEqual(['app.yaml', 'artifact.tgz']);
  });

  it('a build stopped while it writes leaves the archive before it as it was, and no temp file', async () => {
    const tree = join(work, 'tree');
    await mkdir(tree);
    await writeFile(join(tree, 'app.yaml'), 'kind: ConfigMap\n');
    const out = join(work, 'artifact.tgz');
    await writeArchiveFile(tree, {}, out);
    const before = await readFile(out);
    // Incompressible content, so the second build is still writing when it is stopped.
    await writeFile(join(tree, 'noise.bin'), randomBytes(32 * 1024 * 1024));
    const stop = new AbortController();
    const building = writeArchiveFile(tree, { signal: stop.signal }, out);
    for (let i = 0; i < 500 && !(await readdir(work)).some((name) => name.endsWith('.tmp')); i++) await new Promise((r) => setTimeout(r, 5));
    expect((await readdir(work)).some((name) => name.endsWith('.tmp'))).toBe(true);
    stop.abort();
    await expect(building).rejects.toMatchObject({ name: 'AbortError' });
    expect((await readFile(out)).equals(before)).toBe(true);
    expect((await readdir(work)).sort()).toEqual(['artifact.tgz', 'tree']);
  });

  it('leaves no temp file behind on failure', async () => {
    await expect(writeArchiveFile(join(work, 'missing'), {}, join(work, 'a.tgz'))).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(await readdir(work)).toEqual([]);
  });
});
