import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciError } from '../../src/errors.js';
import { readArchiveEntries } from '../../src/artifact/archive-entries.js';
import { extractArchive } from '../../src/artifact/unpack.js';
import { snapshotTree } from '../helpers/cli.js';
// @ts-expect-error: a plain .mjs script without type declarations
import { tarOf } from '../../scripts/make-hostile-corpus.mjs';
import { FUZZ } from '../helpers/fuzz.js';
import { writeReliabilitySection } from '../helpers/reliability-doc.js';

/**
 * Tar headers through the unpacker: random entry names (with `..`, `/`, `\`, empty and long parts), every entry
 * type, links aimed out of the target, byte-level corruption of valid archives and plain garbage. Each extraction
 * must end in success or an OciError, within a bounded time, with nothing written outside the target (a sentinel
 * directory beside it is compared), no temp directory left, and no symlink or special file created.
 */

const SEGMENTS = ['a', 'b', 'deploy.yaml', '..', '.', '', '\\', '..\\x', 'c d', '~', 'sentinel', 'x'.repeat(110), '\u00e9'];
const name = fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 5 }).chain((parts) =>
  fc.constantFrom(parts.join('/'), `/${parts.join('/')}`, `./${parts.join('/')}`, `${parts.join('/')}/`));
const TYPES = ['File', 'File', 'File', 'Directory', 'SymbolicLink', 'Link', 'CharacterDevice', 'BlockDevice', 'FIFO', 'ContiguousFile'] as const;
const entry = fc.record({
  path: name,
  type: fc.constantFrom(...TYPES),
  body: fc.string({ maxLength: 40 }),
  linkpath: fc.constantFrom('../../sentinel', '/etc/passwd', 'a', '..', 'b/../..', 'sentinel/keep.txt'),
  mode: fc.constantFrom(0o644, 0o755, 0o4777, 0o2755, 0o1777, 0o000),
});
const maxSize = fc.constantFrom<number | undefined>(undefined, 0, 600, 1024 * 1024);

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'oci-artifact-fuzz-unpack-'));
});
const tried = { archives: 0, refused: 0 };
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  const line = `Tar headers through the unpacker: ${tried.archives} generated archives (seed ${FUZZ.seed}), ${tried.refused} refused with an ` +
    'OciError, 0 other exceptions, writes outside the target: 0, symlinks/devices/setuid bits created: 0.';
  process.stdout.write(`\n${line}\n`);
  if (process.env.RELIABILITY_DOC === '1') await writeReliabilitySection('fuzz-unpack', line);
});

let runId = 0;

/** Extract `layer` into root/t/out beside root/sentinel and check every invariant. */
async function extractChecked(layer: Buffer, limit: number | undefined): Promise<void> {
  const root = join(scratch, String(++runId));
  await mkdir(join(root, 'sentinel'), { recursive: true });
  await mkdir(join(root, 't'));
  await writeFile(join(root, 'sentinel', 'keep.txt'), 'keep');
  const before = await snapshotTree(root);
  const out = join(root, 't', 'out');

  const started = performance.now();
  let failed: unknown;
  try {
    await extractArchive(Readable.from([layer]), out, { maxSize: limit });
  } catch (err) {
    failed = err;
  }
  expect(performance.now() - started).toBeLessThan(5000);
  if (failed !== undefined && !(failed instanceof OciError)) throw failed;
  tried.archives++;
  if (failed !== undefined) tried.refused++;

  const after = await snapshotTree(root);
  for (const key of Object.keys(after)) if (key.startsWith('t/out/')) delete after[key];
  expect(after).toEqual(before);
  expect(await readdir(join(root, 't'))).toEqual(failed === undefined ? ['out'] : []);
  if (failed === undefined) await expectOnlyPlainFiles(out);

  // The listing reader (inspect, diff) takes the same decisions and writes nothing.
  let listed: unknown;
  try {
    await readArchiveEntries(Readable.from([layer]), { maxSize: limit });
  } catch (err) {
    listed = err;
  }
  if (listed !== undefined && !(listed instanceof OciError)) throw listed;
  expect(listed === undefined).toBe(failed === undefined);
  await rm(root, { recursive: true, force: true });
}

async function expectOnlyPlainFiles(dir: string): Promise<void> {
  for (const item of await readdir(dir)) {
    const info = await lstat(join(dir, item));
    expect(info.isFile() || info.isDirectory(), `${item} is a plain file or directory`).toBe(true);
    expect(info.mode & 0o7000, `${item} has no setuid/setgid/sticky bit`).toBe(0);
    if (info.isDirectory()) await expectOnlyPlainFiles(join(dir, item));
  }
}

describe('fuzz: tar headers through the unpacker', () => {
  it('random entries: success or OciError, nothing outside the target', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 6 }), maxSize, async (entries, limit) => {
        await extractChecked(gzipSync(tarOf(entries)), limit);
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.runs(150) },
    );
  });

  it('corrupted bytes of a valid archive: success or OciError, nothing outside the target', async () => {
    const valid = tarOf([
      { path: 'dir', type: 'Directory', mode: 0o755 },
      { path: 'dir/a.yaml', body: 'kind: ConfigMap\n'.repeat(20) },
      { path: 'b.yaml', body: 'b: 1\n' },
    ]) as Buffer;
    const flips = fc.array(fc.record({ at: fc.nat({ max: valid.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(flips, fc.boolean(), async (changes, cut) => {
        const bytes = Buffer.from(valid);
        for (const { at, byte } of changes) bytes[at] = byte;
        const layer = gzipSync(cut ? bytes.subarray(0, changes[0]!.at) : bytes);
        await extractChecked(layer, undefined);
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.runs(150) },
    );
  });

  it('arbitrary bytes, gzip\'d or not: OciError, nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), async (raw, gzip) => {
        await extractChecked(gzip ? gzipSync(raw) : Buffer.from(raw), undefined);
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.runs(100) },
    );
    expect(existsSync('/etc/passwd')).toBe(true);
  });
});
