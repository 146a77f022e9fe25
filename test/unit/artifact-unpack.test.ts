import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { readArchiveEntries } from '../../src/artifact/archive-entries.js';
import { extractArchive } from '../../src/artifact/unpack.js';
import { normaliseEntryPath } from '../../src/artifact/tar-reader.js';
import { OciError } from '../../src/errors.js';
import { VerifyingStream, digestOf } from '../../src/ref/digest.js';

// Hostile and foreign tarballs are built here, block by block, so each test says exactly what the bytes are.

interface RawEntry {
  name: string;
  /** Tar type flag: '0' file, '5' dir, '2' symlink, '1' hardlink, '3' char device, '6' FIFO, 'x' PAX, 'L' GNU long name. */
  type?: string;
  content?: Buffer | string;
  mode?: number;
  linkname?: string;
  /** Declared size when it differs from the content (for streamed bodies). */
  size?: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function rawHeader(entry: RawEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(entry.name, 0, 100, 'utf8');
  block.write(octal(entry.mode ?? (entry.type === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1');
  block.write(octal(0, 8), 116, 'latin1');
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(0, 12), 136, 'latin1');
  block.write(entry.type ?? '0', 156, 'latin1');
  if (entry.linkname) block.write(entry.linkname, 157, 100, 'utf8');
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7), 148, 'latin1');
  return block;
}

function pad(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

function tarOf(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = Buffer.from(entry.content ?? '');
    parts.push(rawHeader(entry, content.length), content, pad(content.length));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

function paxRecord(key: string, value: string): string {
  let size = key.length + value.length + 3;
  size += String(size).length;
  if (String(size).length + key.length + value.length + 3 !== size) size++;
  return `${size} ${key}=${value}\n`;
}

const tgz = (entries: RawEntry[]): Buffer => gzipSync(tarOf(entries));
const streamOf = (bytes: Buffer): Readable => Readable.from([bytes]);

let work: string;
let target: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'oa-unpack-'));
  target = join(work, 'out');
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Every path under `dir` with its type, mode and content, to prove a failed extraction changed nothing. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (abs: string, rel: string): Promise<void> => {
    for (const name of (await readdir(abs)).sort()) {
      const path = join(abs, name);
      const info = await lstat(path);
      const key = rel ? `${rel}/${name}` : name;
      if (info.isDirectory()) {
        out[key] = `dir ${(info.mode & 0o777).toString(8)}`;
        await visit(path, key);
      } else {
        out[key] = `${info.isSymbolicLink() ? 'link' : 'file'} ${(info.mode & 0o777).toString(8)} ${info.isFile() ? await readFile(path, 'utf8') : ''}`;
      }
    }
  };
  await visit(dir, '');
  return out;
}

async function expectRejected(promise: Promise<unknown>, code: string): Promise<OciError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected OciError ${code}`).toBeInstanceOf(OciError);
  expect((err as OciError).code).toBe(code);
  return err as OciError;
}

describe('extractArchive: archives as Flux and others write them', () => {
  it('reads a Go/Flux-style tar with a `.` root entry and directory entries', async () => {
    const bytes = tgz([
      { name: '.', type: '5' },
      { name: 'apps', type: '5' },
      { name: 'apps/app.yaml', content: 'kind: Deployment\n' },
      { name: 'run.sh', content: '#!/bin/sh\n', mode: 0o755 },
    ]);
    const result = await extractArchive(streamOf(bytes), target);
    expect(result).toEqual({ files: 2, bytes: 27, skipped: [] });
    expect(await readFile(join(target, 'apps/app.yaml'), 'utf8')).toBe('kind: Deployment\n');
    expect((await stat(join(target, 'run.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(target)).mode & 0o777).toBe(0o755);
  });

  it('accepts `./` prefixes and a `./` root entry', async () => {
    const bytes = tgz([
      { name: './', type: '5' },
      { name: './base/', type: '5' },
      { name: './base/kustomization.yaml', content: 'resources: []\n' },
    ]);
    await extractArchive(streamOf(bytes), target);
    expect(await snapshot(target)).toEqual({ base: 'dir 755', 'base/kustomization.yaml': 'file 644 resources: []\n' });
  });

  it('creates missing parent directories (0755) when the tar has no directory entries', async () => {
    const bytes = tgz([{ name: 'a/b/c.yaml', content: 'x: 1\n', mode: 0o600 }]);
    await extractArchive(streamOf(bytes), target);
    expect(await snapshot(target)).toEqual({ a: 'dir 755', 'a/b': 'dir 755', 'a/b/c.yaml': 'file 600 x: 1\n' });
  });

  it('accepts PAX and GNU long names', async () => {
    const longPath = `${'deep/'.repeat(30)}file.yaml`;
    const gnuPath = `${'gnu/'.repeat(40)}other.yaml`;
    const pax = paxRecord('path', longPath);
    const bytes = tgz([
      { name: 'PaxHeaders.0/file.yaml', type: 'x', content: pax },
      { name: 'truncated-name', content: 'pax\n' },
      { name: '././@LongLink', type: 'L', content: `${gnuPath}\0` },
      { name: 'gnu-truncated', content: 'gnu\n' },
    ]);
    await extractArchive(streamOf(bytes), target);
    expect(await readFile(join(target, longPath), 'utf8')).toBe('pax\n');
    expect(await readFile(join(target, gnuPath), 'utf8')).toBe('gnu\n');
  });

  it('strips setuid/setgid/sticky bits from file modes', async () => {
    await extractArchive(streamOf(tgz([{ name: 'tool', content: 'x', mode: 0o6755 }])), target);
    expect((await stat(join(target, 'tool'))).mode & 0o7777).toBe(0o755);
  });

  it('skips symlinks and reports them', async () => {
    const bytes = tgz([
      { name: 'real.yaml', content: 'a: 1\n' },
      { name: 'alias.yaml', type: '2', linkname: 'real.yaml' },
    ]);
    const result = await extractArchive(streamOf(bytes), target);
    expect(result.skipped).toEqual(['alias.yaml']);
    expect(await snapshot(target)).toEqual({ 'real.yaml': 'file 644 a: 1\n' });
  });

  it('extracts over an existing directory as Flux and tar do: overwrites the archive\'s files, keeps every other file', async () => {
    await mkdir(join(target, 'base'), { recursive: true });
    await writeFile(join(target, 'keep.txt'), 'mine\n');
    await writeFile(join(target, 'base/mine.yaml'), 'user file\n');
    await writeFile(join(target, 'base/new.yaml'), 'old version\n');
    await writeFile(join(target, 'README.md'), 'old readme\n');
    const bytes = tgz([
      { name: '.', type: '5' },
      { name: 'README.md', content: 'new readme\n' },
      { name: 'base', type: '5' },
      { name: 'base/new.yaml', content: 'fresh\n' },
      { name: 'base/sub', type: '5' },
      { name: 'base/sub/deep.yaml', content: 'deep\n' },
    ]);
    await extractArchive(streamOf(bytes), target);
    expect(await snapshot(target)).toEqual({
      'README.md': 'file 644 new readme\n',
      base: 'dir 755',
      'base/mine.yaml': 'file 644 user file\n',
      'base/new.yaml': 'file 644 fresh\n',
      'base/sub': 'dir 755',
      'base/sub/deep.yaml': 'file 644 deep\n',
      'keep.txt': 'file 644 mine\n',
    });
    expect(await readdir(work)).toEqual(['out']); // no staging directory or lock left
  });

  it('replaces a symlink where the archive has a file (the link, not its target)', async () => {
    await mkdir(target);
    await writeFile(join(work, 'elsewhere.yaml'), 'not mine to change\n');
    await symlink(join(work, 'elsewhere.yaml'), join(target, 'a.yaml'));
    await extractArchive(streamOf(tgz([{ name: 'a.yaml', content: 'from the artifact\n' }])), target);
    expect(await snapshot(target)).toEqual({ 'a.yaml': 'file 644 from the artifact\n' });
    expect(await readFile(join(work, 'elsewhere.yaml'), 'utf8')).toBe('not mine to change\n');
  });

  it('refuses a target that is a file, and a target whose parent is missing', async () => {
    await writeFile(target, 'file');
    await expectRejected(extractArchive(streamOf(tgz([{ name: 'a', content: 'x' }])), target), 'OUTPUT_NOT_DIRECTORY');
    await expectRejected(extractArchive(streamOf(tgz([{ name: 'a', content: 'x' }])), join(work, 'no/such/dir')), 'PATH_NOT_FOUND');
  });
});

describe('extractArchive: hostile and broken input leaves everything untouched', () => {
  const outside = (): string => join(work, 'escaped');

  /** `input` is bytes or a factory: a stream made early could fail before anyone listens. */
  async function expectUntouched(input: Buffer | (() => Readable), code: string, options = {}): Promise<OciError> {
    await mkdir(target);
    await writeFile(join(target, 'existing.yaml'), 'before\n');
    const before = await snapshot(work);
    const source = typeof input === 'function' ? input() : streamOf(input);
    const err = await expectRejected(extractArchive(source, target, options), code);
    expect(await snapshot(work)).toEqual(before); // target as it was, no temp dir left, nothing written beside it
    return err;
  }

  it.each([
    ['a file where the archive has a directory', async () => writeFile(join(target, 'base'), 'mine\n'), 'a file', 'a directory'],
    ['a directory where the archive has a file', async () => mkdir(join(target, 'ok.yaml')), 'a directory', 'a file'],
    ['a symlink where the archive has a directory', async () => symlink(work, join(target, 'base')), 'a symbolic link', 'a directory'],
  ])('%s: refused, naming the path, nothing changed', async (_label, setup, there, wanted) => {
    await mkdir(target);
    await writeFile(join(target, 'existing.yaml'), 'before\n');
    await setup();
    const before = await snapshot(work);
    const bytes = tgz([{ name: 'ok.yaml', content: 'x' }, { name: 'base', type: '5' }, { name: 'base/a.yaml', content: 'y' }]);
    const err = await expectRejected(extractArchive(streamOf(bytes), target), 'OUTPUT_CONFLICT');
    expect(err.kind).toBe('usage');
    expect(err.message).toContain(`is ${there} there, where the artifact has ${wanted}; nothing was changed`);
    expect(await snapshot(work)).toEqual(before);
  });

  it('a name the puller uses in the output directory is refused at the top level', async () => {
    await expectUntouched(tgz([{ name: '.oci-artifact-pull.lock', content: 'x' }]), 'OUTPUT_CONFLICT');
  });

  it('absolute path', async () => {
    await expectUntouched(tgz([{ name: `${outside()}`, content: 'pwned' }]), 'UNSAFE_ARCHIVE');
    await expect(stat(outside())).rejects.toThrow();
  });

  it('`../x` traversal', async () => {
    await expectUntouched(tgz([{ name: 'ok.yaml', content: 'fine' }, { name: '../escaped', content: 'pwned' }]), 'UNSAFE_ARCHIVE');
  });

  it('`a/../../x` traversal hidden behind a directory', async () => {
    await expectUntouched(tgz([{ name: 'a/../../escaped', content: 'pwned' }]), 'UNSAFE_ARCHIVE');
  });

  it('harmless-looking `..` components are refused too', async () => {
    await expectUntouched(tgz([{ name: 'a/../b', content: 'x' }]), 'UNSAFE_ARCHIVE');
  });

  it('backslash in a name', async () => {
    await expectUntouched(tgz([{ name: '..\\escaped', content: 'pwned' }]), 'UNSAFE_ARCHIVE');
  });

  it('a symlink, then a file written through it', async () => {
    const bytes = tgz([
      { name: 'link', type: '2', linkname: work },
      { name: 'link/escaped', content: 'pwned' },
    ]);
    const err = await expectUntouched(bytes, 'UNSAFE_ARCHIVE');
    expect(err.message).toMatch(/through the symlink 'link'/);
  });

  it('hardlink', async () => {
    await expectUntouched(tgz([{ name: 'passwd', type: '1', linkname: '/etc/passwd' }]), 'UNSAFE_ARCHIVE');
  });

  it('character device', async () => {
    await expectUntouched(tgz([{ name: 'null', type: '3' }]), 'UNSAFE_ARCHIVE');
  });

  it('FIFO', async () => {
    await expectUntouched(tgz([{ name: 'pipe', type: '6' }]), 'UNSAFE_ARCHIVE');
  });

  it('duplicate file entries', async () => {
    await expectUntouched(tgz([{ name: 'a.yaml', content: '1' }, { name: 'a.yaml', content: '2' }]), 'UNSAFE_ARCHIVE');
  });

  it('a file below a file', async () => {
    await expectUntouched(tgz([{ name: 'a', content: '1' }, { name: 'a/b', content: '2' }]), 'UNSAFE_ARCHIVE');
  });

  it('gzip bomb: 200 MiB of zeros stops at the default 100 MiB cap', async () => {
    const size = 200 * 1024 * 1024;
    const zeros = Buffer.alloc(1024 * 1024);
    async function* tarBody(): AsyncGenerator<Buffer> {
      yield rawHeader({ name: 'zeros.bin' }, size);
      for (let i = 0; i < 200; i++) yield zeros;
      yield Buffer.alloc(1024);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of Readable.from(tarBody()).pipe(createGzip({ level: 1 }))) chunks.push(chunk as Buffer);
    const bomb = Buffer.concat(chunks);
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const err = await expectUntouched(bomb, 'ARCHIVE_TOO_LARGE');
    expect(err.hint).toMatch(/--max-size/);
  });

  it('a small cap applies to what the archive unpacks to', async () => {
    await expectUntouched(tgz([{ name: 'big', content: Buffer.alloc(64 * 1024) }]), 'ARCHIVE_TOO_LARGE', { maxSize: 16 * 1024 });
  });

  it('truncated gzip', async () => {
    const bytes = tgz([{ name: 'a.yaml', content: 'x'.repeat(5000) }]);
    await expectUntouched(bytes.subarray(0, bytes.length - 30), 'ARCHIVE_TRUNCATED');
  });

  it('a tar cut in the middle of a file (valid gzip)', async () => {
    const tar = tarOf([{ name: 'a.yaml', content: 'y'.repeat(5000) }]);
    await expectUntouched(gzipSync(tar.subarray(0, 2048)), 'ARCHIVE_TRUNCATED');
  });

  it('not gzip', async () => {
    const err = await expectUntouched(tarOf([{ name: 'a', content: 'x' }]), 'NOT_GZIP');
    expect(err.message).toMatch(/not gzip-compressed/);
  });

  it('empty input', async () => {
    const err = await expectUntouched(Buffer.alloc(0), 'NOT_GZIP');
    expect(err.message).toMatch(/empty/);
  });

  it('gzip of something that is not a tar', async () => {
    await expectUntouched(gzipSync(Buffer.from('{"not": "a tar"}\n'.repeat(100))), 'ARCHIVE_INVALID');
  });

  it('gzip inside gzip', async () => {
    await expectUntouched(gzipSync(tgz([{ name: 'a', content: 'x' }])), 'UNSAFE_ARCHIVE');
  });

  it('digest failure at the very end of the source: nothing is committed', async () => {
    const bytes = tgz([{ name: 'app.yaml', content: 'kind: ConfigMap\n' }]);
    const wrong = digestOf(Buffer.from('something else'));
    await expectUntouched(() => Readable.from([bytes]).pipe(new VerifyingStream(wrong, bytes.length)), 'DIGEST_MISMATCH');
  });

  it('a source that errors after all its data: nothing is committed', async () => {
    const bytes = tgz([{ name: 'app.yaml', content: 'kind: ConfigMap\n' }]);
    const source = (): Readable =>
      new Readable({
        read() {
          this.push(bytes);
          setImmediate(() => this.destroy(new OciError('DIGEST_MISMATCH', 'blob digest mismatch')));
        },
      });
    await expectUntouched(source, 'DIGEST_MISMATCH');
  });

  it('into a missing target: the target is not created on failure', async () => {
    await expectRejected(extractArchive(streamOf(tgz([{ name: '../x', content: 'x' }])), target), 'UNSAFE_ARCHIVE');
    expect(await readdir(work)).toEqual([]);
  });

  it('abort while reading: AbortError, nothing committed', async () => {
    const bytes = tgz([{ name: 'app.yaml', content: 'kind: ConfigMap\n' }]);
    const controller = new AbortController();
    // A source that delivers half the archive and then stalls, like a slow download.
    const source = (): Readable =>
      new Readable({
        read() {
          if (this.readableLength === 0 && !controller.signal.aborted) {
            this.push(bytes.subarray(0, 20));
            setTimeout(() => controller.abort(), 20);
          }
        },
      });
    await mkdir(target);
    const before = await snapshot(work);
    const err = await extractArchive(source(), target, { signal: controller.signal }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(await snapshot(work)).toEqual(before);
  });

  it('a verified source that matches is committed', async () => {
    const bytes = tgz([{ name: 'app.yaml', content: 'kind: ConfigMap\n' }]);
    const source = Readable.from([bytes]).pipe(new VerifyingStream(digestOf(bytes), bytes.length));
    await extractArchive(source, target);
    expect(await readFile(join(target, 'app.yaml'), 'utf8')).toBe('kind: ConfigMap\n');
  });
});

describe('readArchiveEntries', () => {
  it('lists entries with digests, keeps content on request, and includes symlinks', async () => {
    const bytes = tgz([
      { name: '.', type: '5' },
      { name: 'dir', type: '5' },
      { name: 'dir/a.yaml', content: 'a: 1\n' },
      { name: './big.bin', content: Buffer.alloc(4096, 7), mode: 0o755 },
      { name: 'link', type: '2', linkname: 'dir/a.yaml' },
    ]);
    const entries = await readArchiveEntries(streamOf(bytes), { keepContent: (_path, size) => size < 1024 });
    expect(entries).toEqual([
      { path: 'dir', type: 'directory', mode: 0o755, size: 0 },
      { path: 'dir/a.yaml', type: 'file', mode: 0o644, size: 5, sha256: digestOf(Buffer.from('a: 1\n')), content: Buffer.from('a: 1\n') },
      { path: 'big.bin', type: 'file', mode: 0o755, size: 4096, sha256: digestOf(Buffer.alloc(4096, 7)) },
      { path: 'link', type: 'symlink', mode: 0o644, size: 0, linkTarget: 'dir/a.yaml' },
    ]);
  });

  it('applies the same validation as extraction', async () => {
    await expectRejected(readArchiveEntries(streamOf(tgz([{ name: '/etc/passwd', content: 'x' }]))), 'UNSAFE_ARCHIVE');
    await expectRejected(readArchiveEntries(streamOf(tgz([{ name: 'dev', type: '4' }]))), 'UNSAFE_ARCHIVE');
  });
});

describe('normaliseEntryPath', () => {
  it('normalises harmless forms', () => {
    expect(normaliseEntryPath('.', 'directory')).toBe('');
    expect(normaliseEntryPath('./', 'directory')).toBe('');
    expect(normaliseEntryPath('./a//b/./c/', 'directory')).toBe('a/b/c');
  });

  it.each(['/abs', 'C:/x', 'a/../b', '..', 'a\\b', 'a\0b'])('refuses %j', (name) => {
    expect(() => normaliseEntryPath(name, 'file')).toThrow(OciError);
  });
});
