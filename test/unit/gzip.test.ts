import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, crc32, deflateRawSync, gunzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import ts from 'typescript';
import { createGzipStream, type GzipOptions } from '../../src/artifact/gzip.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BLOCK = 128 * KiB;

/** Deterministic YAML-ish text: repetitive structure with varying names, numbers and digests. */
function yamlText(size: number, seed = 1): Buffer {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const names = ['api', 'web', 'worker', 'cache', 'queue', 'gateway', 'billing', 'search'];
  const docs: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const name = `${names[rnd() % names.length]}-${rnd().toString(36)}`;
    const doc =
      `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: team-${rnd() % 13}\n` +
      `spec:\n  replicas: ${rnd() % 9}\n  template:\n    spec:\n      containers:\n        - name: ${name}\n` +
      `          image: ghcr.io/example/${name}@sha256:${rnd().toString(16).padStart(8, '0').repeat(8)}\n`;
    docs.push(doc);
    length += doc.length;
  }
  return Buffer.from(docs.join('')).subarray(0, size);
}

/** The format spelled out independently: header, blocks at fixed offsets with a 32 KiB dictionary, trailer. */
function referenceGzip(input: Buffer, level: number, blockSize = BLOCK): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3])];
  const blocks = Math.max(1, Math.ceil(input.length / blockSize));
  for (let i = 0; i < blocks; i++) {
    const start = i * blockSize;
    const last = i === blocks - 1;
    parts.push(
      deflateRawSync(input.subarray(start, Math.min(input.length, start + blockSize)), {
        level,
        finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
        ...(i > 0 ? { dictionary: input.subarray(start - 32 * KiB, start) } : {}),
      }),
    );
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(input), 0);
  trailer.writeUInt32LE(input.length % 2 ** 32, 4);
  parts.push(trailer);
  return Buffer.concat(parts);
}

/** Splits `input` into chunks of the given sizes (cycled). */
function chunked(input: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0, i = 0; offset < input.length; i++) {
    const n = sizes[i % sizes.length]!;
    chunks.push(input.subarray(offset, offset + n));
    offset += n;
  }
  return chunks;
}

async function compress(input: Buffer | Buffer[], options: GzipOptions = {}): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(Array.isArray(input) ? input : [input]),
    createGzipStream(options),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(out);
}

function systemDecompress(tool: 'gzip' | 'pigz', data: Buffer): Buffer {
  const result = spawnSync(tool, ['-dc'], { input: data, maxBuffer: 256 * MiB });
  expect(result.status, `${tool} -dc: ${result.stderr?.toString()}`).toBe(0);
  return result.stdout;
}

describe('createGzipStream round trip', () => {
  const cases: Array<[string, () => Buffer]> = [
    ['empty input', () => Buffer.alloc(0)],
    ['1 byte', () => Buffer.from('x')],
    ['exactly one block', () => yamlText(BLOCK)],
    ['one block + 1 byte', () => yamlText(BLOCK + 1)],
    ['10 MiB random', () => randomBytes(10 * MiB)],
    ['20 MiB YAML-like text', () => yamlText(20 * MiB, 7)],
  ];
  for (const [name, make] of cases) {
    it(`${name}: zlib, gzip -dc and pigz -dc restore the input; bytes match the reference`, async () => {
      const input = make();
      const gz = await compress(input, { threads: 2 });
      expect(gz.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
      expect(gunzipSync(gz).equals(input)).toBe(true);
      expect(systemDecompress('gzip', gz).equals(input)).toBe(true);
      expect(systemDecompress('pigz', gz).equals(input)).toBe(true);
      expect(gz.equals(referenceGzip(input, 6))).toBe(true);
    });
  }

  it('accepts strings and Uint8Arrays as input chunks', async () => {
    const gzip = createGzipStream({ threads: 1 });
    const out: Buffer[] = [];
    gzip.on('data', (chunk: Buffer) => out.push(chunk));
    const done = new Promise((resolve) => gzip.on('end', resolve));
    gzip.write('kind: ConfigMap\n');
    gzip.end(new Uint8Array([0x61, 0x3a, 0x20, 0x62]));
    await done;
    expect(gunzipSync(Buffer.concat(out)).toString()).toBe('kind: ConfigMap\na: b');
  });

  it('compresses text well: 20 MiB of YAML-like text shrinks to under 30%', async () => {
    const input = yamlText(20 * MiB, 3);
    const gz = await compress(input);
    expect(gz.length / input.length).toBeLessThan(0.3);
  });
});

describe('createGzipStream determinism', () => {
  const input = yamlText(3 * MiB + 12345, 11);
  const expected = referenceGzip(input, 6);

  it.each([1, 2, 4])('threads=%i gives the reference bytes', async (threads) => {
    expect((await compress(input, { threads })).equals(expected)).toBe(true);
  });

  it.each([
    ['1000-byte chunks', [1000]],
    ['block-straddling chunks', [BLOCK - 1, 2, BLOCK + 7]],
    ['ragged chunks', [1, 70000, 3, 200000, 17, 131072, 5]],
  ])('%s give the same bytes as one chunk', async (_name, sizes) => {
    expect((await compress(chunked(input, sizes as number[]), { threads: 2 })).equals(expected)).toBe(true);
  });

  it('1-byte chunks with small blocks give the reference bytes', async () => {
    const small = yamlText(100 * KiB, 5);
    const gz = await compress(chunked(small, [1]), { threads: 3, blockSize: 32 * KiB });
    expect(gz.equals(referenceGzip(small, 6, 32 * KiB))).toBe(true);
  });

  it.each([0, 1, 9])('level %i round-trips, sets XFL and matches the reference', async (level) => {
    for (const data of [Buffer.alloc(0), yamlText(700 * KiB, level + 1)]) {
      const gz = await compress(chunked(data, [50000]), { level, threads: 2 });
      expect(gz[8]).toBe(level === 9 ? 2 : level === 1 ? 4 : 0);
      expect(gunzipSync(gz).equals(data)).toBe(true);
      expect(systemDecompress('gzip', gz).equals(data)).toBe(true);
      expect(gz.equals(referenceGzip(data, level))).toBe(true);
    }
  });

  it('rejects invalid options', () => {
    expect(() => createGzipStream({ level: 10 })).toThrow(RangeError);
    expect(() => createGzipStream({ threads: 0 })).toThrow(RangeError);
    expect(() => createGzipStream({ blockSize: 1000 })).toThrow(RangeError);
  });
});

describe('createGzipStream flow control', () => {
  it('stops pulling input while its output is not read, then finishes', async () => {
    const input = yamlText(64 * MiB, 9);
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (let offset = 0; offset < input.length; offset += 64 * KiB) {
          pulled += 64 * KiB;
          yield input.subarray(offset, offset + 64 * KiB);
        }
      })(),
    );
    const gzip = createGzipStream({ threads: 2 });
    source.pipe(gzip);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // 16 blocks (2 MiB) in flight plus their output and the stream buffers: far below the 64 MiB on offer.
    expect(pulled).toBeLessThan(8 * MiB);
    const out: Buffer[] = [];
    for await (const chunk of gzip) out.push(chunk as Buffer);
    expect(gunzipSync(Buffer.concat(out)).equals(input)).toBe(true);
  });

  it('destroy() mid-stream emits close without error and rejects further writes', async () => {
    const gzip = createGzipStream({ threads: 2 });
    gzip.on('data', () => {});
    gzip.write(yamlText(2 * MiB));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = new Promise((resolve) => gzip.on('close', resolve));
    let error: unknown = null;
    gzip.on('error', (err) => (error = err));
    gzip.destroy();
    await closed;
    expect(error).toBeNull();
    expect(gzip.destroyed).toBe(true);
  });
});

/**
 * Process-level behaviour runs in a child Node process on the module compiled with TypeScript's transpiler, so the
 * test sees whether blocks on the thread pool keep the process alive, and when they stop.
 */
describe('createGzipStream work on the thread pool (child process)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gzip-test-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    for (const name of ['gzip', 'deflate-pool']) {
      const source = readFileSync(new URL(`../../src/artifact/${name}.ts`, import.meta.url), 'utf8');
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      writeFileSync(join(dir, `${name}.js`), outputText);
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs an ESM snippet with `createGzipStream` and `threads()` (the process's OS thread count) in scope. */
  function runChild(body: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const script =
      `import { createGzipStream } from './gzip.js';\nimport { readdirSync } from 'node:fs';\n` +
      `const threads = () => readdirSync('/proc/self/task').length;\n${body}\n`;
    writeFileSync(join(dir, 'child.mjs'), script);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['child.mjs'], { cwd: dir });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`child did not exit within 15 s: ${stdout} ${stderr}`));
      }, 15_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it('destroy() mid-stream stops the compression: no block starts after it', async () => {
    // Counts blocks handed to zlib (builtin ESM exports follow the patched CommonJS export). 32 MiB are written at
    // once: 256 blocks, of which at most 16 (2 threads x 8) are in flight when destroy() comes.
    const result = await runChild(`
      import { createRequire, syncBuiltinESMExports } from 'node:module';
      const zlib = createRequire(import.meta.url)('node:zlib');
      const original = zlib.deflateRaw;
      let started = 0;
      zlib.deflateRaw = (...args) => { started++; return original(...args); };
      syncBuiltinESMExports();
      const gzip = createGzipStream({ threads: 2 });
      let seen = 0;
      gzip.on('data', (c) => { seen += c.length; });
      gzip.write(Buffer.alloc(32 * 1024 * 1024, 'abc: def\\n'));
      while (seen === 0) await new Promise((r) => setTimeout(r, 1));
      gzip.destroy();
      await new Promise((r) => gzip.on('close', r));
      const atClose = started;
      await new Promise((r) => setTimeout(r, 300));
      console.log(JSON.stringify({ atClose, after: started }));
    `);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { atClose, after } = JSON.parse(result.stdout) as Record<string, number>;
    expect(atClose).toBeGreaterThan(0);
    expect(atClose).toBeLessThanOrEqual(17);
    expect(after).toBe(atClose);
  });

  it('an abandoned stream (never ended) does not keep the process alive', async () => {
    const result = await runChild(`
      const gzip = createGzipStream({ threads: 2 });
      gzip.on('data', () => {});
      gzip.write(Buffer.alloc(1024 * 1024, 'x'));
      console.log('left');
    `);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('left');
  });

  it('work in flight keeps the process alive until the stream finishes', async () => {
    const result = await runChild(`
      import { pipeline } from 'node:stream/promises';
      import { Readable, Writable } from 'node:stream';
      import { gunzipSync } from 'node:zlib';
      const input = Buffer.alloc(8 * 1024 * 1024, 'key: value-0123\\n');
      const out = [];
      await pipeline(Readable.from([input]), createGzipStream({ threads: 2 }),
        new Writable({ write(c, _e, cb) { out.push(c); cb(); } }));
      console.log(gunzipSync(Buffer.concat(out)).equals(input) ? 'ok' : 'mismatch');
    `);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('ok');
  });
});
