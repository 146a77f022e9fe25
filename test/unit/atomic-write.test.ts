import { execFile } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { NotRegularFileError, stageFile, writeFileAtomic } from '../../src/atomic-write.js';

const root = mkdtempSync(join(tmpdir(), 'atomic-write-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
/** A fresh directory per test, so "nothing else is there" can be checked by listing it. */
const freshDir = (): string => {
  const dir = join(root, String(count++));
  mkdirSync(dir);
  return dir;
};

/** A stream that yields `chunks` and then fails, as a broken download does mid-way. */
function failingAfter(chunks: string[], message: string): Readable {
  return new Readable({
    read() {
      const next = chunks.shift();
      if (next !== undefined) this.push(next);
      else this.destroy(new Error(message));
    },
  });
}

describe('writeFileAtomic', () => {
  it('writes text, bytes and a stream whole, replacing the old file, with no temp file left', async () => {
    const dir = freshDir();
    const path = join(dir, 'file.txt');
    await writeFileAtomic(path, 'one\n');
    expect(readFileSync(path, 'utf8')).toBe('one\n');
    await writeFileAtomic(path, Buffer.from('two\n'), { flush: true });
    expect(readFileSync(path, 'utf8')).toBe('two\n');
    await writeFileAtomic(path, Readable.from(['th', 'ree\n']));
    expect(readFileSync(path, 'utf8')).toBe('three\n');
    expect(readdirSync(dir)).toEqual(['file.txt']);
  });

  it('a stream that fails mid-way leaves the target as it was and no temp file', async () => {
    const dir = freshDir();
    const path = join(dir, 'layer.bin');
    writeFileSync(path, 'old');
    await expect(writeFileAtomic(path, failingAfter(['partial ', 'content '], 'connection reset'))).rejects.toThrow('connection reset');
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['layer.bin']);
  });

  it('a stream passed through a failing check (a digest mismatch at its end) leaves nothing', async () => {
    const dir = freshDir();
    const check = new Transform({
      transform: (chunk: Buffer, _enc, done) => done(null, chunk),
      flush: (done) => done(new Error('digest mismatch')),
    });
    await expect(writeFileAtomic(join(dir, 'blob'), Readable.from(['bytes']), { through: [check] })).rejects.toThrow('digest mismatch');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an abort stops a stream that is still arriving: the target is untouched and no temp file is left', async () => {
    const dir = freshDir();
    const path = join(dir, 'big.bin');
    writeFileSync(path, 'old');
    const source = new PassThrough();
    source.write('first chunk');
    const controller = new AbortController();
    const writing = writeFileAtomic(path, source, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(writing).rejects.toMatchObject({ name: 'AbortError' });
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['big.bin']);
  });

  it('a rename that fails (a directory in the way) removes the fully written temp file', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'taken'));
    writeFileSync(join(dir, 'taken', 'inside'), 'kept');
    await expect(writeFileAtomic(join(dir, 'taken'), 'x')).rejects.toMatchObject({ code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/) });
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readFileSync(join(dir, 'taken', 'inside'), 'utf8')).toBe('kept');
  });

  it('a missing directory fails at once and creates nothing', async () => {
    const dir = freshDir();
    await expect(writeFileAtomic(join(dir, 'missing', 'file'), 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('applies the mode (narrowed by the umask), exactly with exactMode, and keeps a replaced file\'s mode with keepMode', async () => {
    const dir = freshDir();
    const umask = process.umask();
    const secret = join(dir, 'secret');
    await writeFileAtomic(secret, 's', { mode: 0o600 });
    expect(statSync(secret).mode & 0o777).toBe(0o600 & ~umask);
    await writeFileAtomic(join(dir, 'streamed'), Readable.from(['s']), { mode: 0o640 });
    expect(statSync(join(dir, 'streamed')).mode & 0o777).toBe(0o640 & ~umask);

    // A umask that takes the owner's write bit: only exactMode restores 0600.
    const narrow = process.umask(0o277);
    try {
      await writeFileAtomic(join(dir, 'narrowed'), 's', { mode: 0o600 });
      expect(statSync(join(dir, 'narrowed')).mode & 0o777).toBe(0o400);
      await writeFileAtomic(join(dir, 'exact'), 's', { mode: 0o600, exactMode: true });
      expect(statSync(join(dir, 'exact')).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(narrow);
    }

    const kept = join(dir, 'kept');
    writeFileSync(kept, 'old', { mode: 0o640 });
    await writeFileAtomic(kept, 'new', { mode: 0o644, keepMode: true });
    expect(statSync(kept).mode & 0o777).toBe(0o640 & ~umask);
    await writeFileAtomic(join(dir, 'fresh'), 'new', { mode: 0o604, keepMode: true });
    expect(statSync(join(dir, 'fresh')).mode & 0o777).toBe(0o604 & ~umask);
  });

  it('regularFileOnly refuses a symbolic link, a directory and a device, leaving each as it was', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'target'), 'kept');
    symlinkSync(join(dir, 'target'), join(dir, 'link'));
    mkdirSync(join(dir, 'sub'));
    for (const name of ['link', 'sub']) {
      await expect(writeFileAtomic(join(dir, name), 'x', { regularFileOnly: true })).rejects.toBeInstanceOf(NotRegularFileError);
    }
    await expect(writeFileAtomic('/dev/null', 'x', { regularFileOnly: true })).rejects.toBeInstanceOf(NotRegularFileError);
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('kept');
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['link', 'sub', 'target']);
    // Without the option a symbolic link is replaced itself, never written through.
    await writeFileAtomic(join(dir, 'link'), 'new');
    expect(lstatSync(join(dir, 'link')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('kept');
  });

  it('concurrent writers of one file leave one of their contents, whole, and no temp file', async () => {
    const dir = freshDir();
    const path = join(dir, 'index.json');
    const contents = Array.from({ length: 20 }, (_, i) => `${String(i).repeat(64 * 1024)}\n`);
    await Promise.all(contents.map((text, i) => writeFileAtomic(path, i % 2 === 0 ? text : Readable.from([text.slice(0, 1000), text.slice(1000)]))));
    expect(contents).toContain(readFileSync(path, 'utf8'));
    expect(readdirSync(dir)).toEqual(['index.json']);
  });
});

describe('stageFile', () => {
  it('create() links into place and refuses an existing file (EEXIST naming it); discard() removes the temp file', async () => {
    const dir = freshDir();
    const fresh = await stageFile(join(dir, 'new.key'), 'key', { mode: 0o600 });
    await fresh.create();
    await fresh.discard();
    expect(readFileSync(join(dir, 'new.key'), 'utf8')).toBe('key');

    writeFileSync(join(dir, 'old.key'), 'old');
    const clash = await stageFile(join(dir, 'old.key'), 'key');
    await expect(clash.create()).rejects.toMatchObject({ code: 'EEXIST', dest: join(dir, 'old.key') });
    await clash.discard();
    expect(readFileSync(join(dir, 'old.key'), 'utf8')).toBe('old');
    expect(readdirSync(dir).sort()).toEqual(['new.key', 'old.key']);
  });

  it('replace(name) renames to a name learnt once the content is written (a digest)', async () => {
    const dir = freshDir();
    const staged = await stageFile(join(dir, 'blob'), Readable.from(['abc']));
    await staged.replace(join(dir, 'ba7816bf'));
    expect(readdirSync(dir)).toEqual(['ba7816bf']);
  });
});

describe('a process that exits mid-write (a second Ctrl-C exits at once)', () => {
  it('still removes the temp file: only the old target is left', async () => {
    const dir = freshDir();
    // Node 20 cannot run TypeScript: the child gets the module with its types erased (it imports nothing of src/).
    const source = readFileSync(new URL('../../src/atomic-write.ts', import.meta.url), 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    writeFileSync(join(dir, 'atomic-write.mjs'), outputText);
    writeFileSync(join(dir, 'child.mjs'), [
      "import { readdirSync } from 'node:fs';",
      "import { PassThrough } from 'node:stream';",
      "import { writeFileAtomic } from './atomic-write.mjs';",
      'const source = new PassThrough();',
      "source.write('the first part of a long download');",
      "void writeFileAtomic('out/layer.bin', source);",
      "const poll = setInterval(() => { if (readdirSync('out').some((n) => n.endsWith('.tmp'))) process.exit(130); }, 5);",
      'setTimeout(() => { clearInterval(poll); process.exit(1); }, 10_000);',
    ].join('\n'));
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'layer.bin'), 'old');
    const run = promisify(execFile);
    await expect(run(process.execPath, ['child.mjs'], { cwd: dir, timeout: 30_000 })).rejects.toMatchObject({ code: 130 });
    expect(readdirSync(join(dir, 'out'))).toEqual(['layer.bin']);
    expect(readFileSync(join(dir, 'out', 'layer.bin'), 'utf8')).toBe('old');
  });
});
