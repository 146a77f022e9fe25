import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_COMPONENT_BYTES, MAX_PATH_BYTES } from '../../src/artifact/entry-name.js';
import { packArtifact } from '../../src/artifact/pack.js';
import { END_OF_ARCHIVE, encodeTarHeader, padding } from '../../src/artifact/tar-header.js';
import { extractArchive } from '../../src/artifact/unpack.js';
import { OciError } from '../../src/errors.js';
import { FUZZ } from '../helpers/fuzz.js';

// What push writes, pull reads: the packer and the unpacker share one rule for entry names (entry-name.ts), and
// the unpacker stays linear and bounded on deep and long paths.

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'oa-entry-name-'));
});
afterAll(() => {
  // GNU rm walks relative to open directories; fs.rm walks full paths, which takes seconds per 2,000-level tree.
  execFileSync('rm', ['-rf', scratch]);
});
let runId = 0;

/** A gzip'd tar of directories and files, headers as the packer writes them (PAX for long or non-ASCII names). */
function tgzOf(entries: { name: string; type: 'file' | 'directory'; content?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const { name, type, content = '' } of entries) {
    const body = Buffer.from(content);
    parts.push(encodeTarHeader({ name, type, mode: type === 'directory' ? 0o755 : 0o644, size: body.length }), body, padding(body.length));
  }
  parts.push(END_OF_ARCHIVE);
  return gzipSync(Buffer.concat(parts));
}

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    if (!(err instanceof OciError)) throw err;
    return err.code;
  }
}

describe('the packer refuses exactly the names the unpacker refuses', () => {
  // Names the file system takes (no '/', no NUL, at most 255 bytes), made of the pieces that matter to either side.
  const component = fc
    .array(fc.constantFrom('a', 'b.yaml', '.', '..', '\\', ':', 'C', ' ', '\u00e9', '\n', '~'), { minLength: 1, maxLength: 4 })
    .map((pieces) => pieces.join(''))
    .filter((name) => name !== '.' && name !== '..');
  const tree = fc.array(fc.array(component, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 });

  it('a tree on disk either packs into an archive that extracts, or is refused at pack time; never pushed then refused', async () => {
    const seen = { packed: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(tree, async (paths) => {
        const dir = join(scratch, `tree-${++runId}`);
        const files = new Set<string>();
        for (const parts of paths) {
          const path = parts.join('/');
          // A file and a directory of the same name cannot both exist: keep the first.
          if ([...files].some((f) => f === path || f.startsWith(`${path}/`) || path.startsWith(`${f}/`))) continue;
          files.add(path);
          await mkdir(join(dir, ...parts.slice(0, -1)), { recursive: true });
          await writeFile(join(dir, ...parts), 'x');
        }
        let packedBytes: Buffer | undefined;
        const packed = await outcome(buffer(packArtifact(dir).stream).then((bytes) => {
          packedBytes = bytes;
        }));
        // The same names as a hand-made tar: the unpacker's verdict on them, whatever the packer thought.
        const entries = [...files].flatMap((path) => {
          const parts = path.split('/');
          return [...parts.slice(0, -1).map((_, i) => ({ name: parts.slice(0, i + 1).join('/'), type: 'directory' as const })), { name: path, type: 'file' as const }];
        });
        const unique = [...new Map(entries.map((e) => [e.name, e])).values()];
        const unpacked = await outcome(extractArchive(Readable.from([tgzOf(unique)]), join(scratch, `out-${runId}`)));
        if (packed === 'ok') {
          seen.packed++;
          expect(unpacked, `packed ${JSON.stringify([...files])}, yet the unpacker refuses the names`).toBe('ok');
          expect(await outcome(extractArchive(Readable.from([packedBytes!]), join(scratch, `out-packed-${runId}`)))).toBe('ok');
        } else {
          seen.refused++;
          expect(packed).toBe('PATH_NAME_INVALID');
          expect(unpacked, `refused to pack ${JSON.stringify([...files])}, which the unpacker takes`).toBe('UNSAFE_ARCHIVE');
        }
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.runs(60) },
    );
    expect(seen.packed).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('names a refused file, with a usage error', async () => {
    const dir = join(scratch, 'backslash');
    await mkdir(join(dir, 'base'), { recursive: true });
    await writeFile(join(dir, 'base', 'win\\style.yaml'), 'x');
    const err = await buffer(packArtifact(dir).stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OciError);
    expect((err as OciError).kind).toBe('usage');
    expect((err as OciError).message).toBe("cannot pack 'base/win\\style.yaml': the path contains a backslash");
  });
});

describe('deep and long paths', () => {
  /** 2,000 directories, nested or side by side, and a file in the last one. */
  function tgzOfDirectories(shape: 'deep' | 'flat'): Buffer {
    const names = Array.from({ length: 2000 }, (_, i) => (shape === 'deep' ? Array(i + 1).fill('d').join('/') : `d${i}`));
    return tgzOf([...names.map((name) => ({ name, type: 'directory' as const })), { name: `${names.at(-1)}/f`, type: 'file', content: 'deep\n' }]);
  }

  async function timeExtraction(bytes: Buffer): Promise<number> {
    const started = performance.now();
    const result = await extractArchive(Readable.from([bytes]), join(scratch, `timed-${++runId}`));
    expect(result.files).toBe(1);
    return performance.now() - started;
  }

  it('a path 2,000 directories deep extracts about as fast as 2,000 directories side by side (linear, no realpath per level)', async () => {
    // A ratio, not a wall-clock bound: both shapes make the same number of directories on the same (possibly busy)
    // machine. Best of two of each. The quadratic code took 96 s deep, well under a second flat.
    const deep = tgzOfDirectories('deep');
    const flat = tgzOfDirectories('flat');
    const times = { deep: Infinity, flat: Infinity };
    for (let round = 0; round < 2; round++) {
      times.flat = Math.min(times.flat, await timeExtraction(flat));
      times.deep = Math.min(times.deep, await timeExtraction(deep));
    }
    expect(times.deep, `deep ${times.deep.toFixed(0)} ms, flat ${times.flat.toFixed(0)} ms`).toBeLessThan(4 * times.flat + 250);
  });

  it('a 2,000-level extraction that fails at the end leaves nothing behind', async () => {
    const target = join(scratch, 'deep-failing');
    const source = new Readable({ read() {} });
    source.push(tgzOfDirectories('deep'));
    setTimeout(() => source.destroy(new Error('digest mismatch')), 50);
    await expect(extractArchive(source, target)).rejects.toThrow('digest mismatch');
    expect((await readdir(scratch)).filter((name) => name.includes('deep-failing'))).toEqual([]);
  });

  it.each([
    ['20,000 levels', Array(20_000).fill('d').join('/'), `is ${20_000 * 2 - 1} bytes long (at most ${MAX_PATH_BYTES})`],
    ['a 900 KB name', 'n'.repeat(900_000), `is 900000 bytes long (at most ${MAX_PATH_BYTES})`],
    ['a 256-byte component', `dir/${'c'.repeat(MAX_COMPONENT_BYTES + 1)}`, `has a name of 256 bytes (at most ${MAX_COMPONENT_BYTES})`],
  ])('%s: refused with one short line, nothing written', async (_label, name, problem) => {
    const target = join(scratch, `long-${++runId}`);
    const err = await extractArchive(Readable.from([tgzOf([{ name: 'ok.yaml', type: 'file' }, { name, type: 'file', content: 'x' }])]), target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OciError);
    expect((err as OciError).code).toBe('UNSAFE_ARCHIVE');
    expect((err as OciError).kind).toBe('registry'); // exit 3
    expect((err as OciError).message).toContain(problem);
    expect((err as OciError).message.length).toBeLessThan(250);
    expect((err as OciError).message).not.toContain('\n');
    expect(await readdir(scratch)).not.toContain(`long-${runId}`);
  });
});
