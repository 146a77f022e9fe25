import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciError } from '../../src/errors.js';
import { extractArchive } from '../../src/artifact/unpack.js';
// @ts-expect-error: a plain .mjs script without type declarations
import { tarOf } from '../../scripts/make-hostile-corpus.mjs';

/**
 * Aborting an extraction half way (Ctrl-C): many small entries arrive in one gunzip chunk and queue up; none of
 * them may be written after extractArchive rejected, or removing the staging directory races with the writes
 * (ENOTEMPTY, an "unexpected error", a staging directory left behind, or the output directory this call made).
 */
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'oci-artifact-unpack-abort-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/**
 * The layer's first half, then the rest only once the abort has fired: the extraction cannot finish before the
 * watcher below sees the staged entries (on a fast machine or Node it did, and the test saw no abort at all).
 */
async function* heldBackUntil(aborted: AbortSignal, bytes: Buffer): AsyncGenerator<Buffer> {
  const half = Math.floor(bytes.length / 2);
  yield bytes.subarray(0, half);
  await new Promise((resolve) => aborted.addEventListener('abort', resolve, { once: true }));
  yield bytes.subarray(half);
}

const layer = gzipSync(tarOf(Array.from({ length: 3000 }, (_, i) => ({ path: `d${i % 30}/f${i}.yaml`, body: `n: ${i}\n` }))) as Buffer);

describe('extractArchive aborted half way', () => {
  it.each([1, 2, 3, 4, 5])('rejects with the abort reason and leaves nothing (run %i)', async (run) => {
    const parent = join(scratch, String(run));
    await import('node:fs/promises').then((fs) => fs.mkdir(parent));
    const controller = new AbortController();
    const reason = new OciError('INTERRUPTED', 'interrupted by SIGINT', { kind: 'interrupted' });
    const watch = setInterval(() => {
      void readdir(join(parent, 'out')).then(async (names) => {
        const staging = names.find((n) => n.startsWith('.oci-artifact-staging-'));
        if (staging && (await readdir(join(parent, 'out', staging)).catch(() => [])).length >= 3) controller.abort(reason);
      }, () => undefined);
    }, 1);
    try {
      await expect(extractArchive(Readable.from(heldBackUntil(controller.signal, layer)), join(parent, 'out'), { signal: controller.signal })).rejects.toBeInstanceOf(Error);
    } finally {
      clearInterval(watch);
    }
    expect(controller.signal.aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 50)); // a write still in flight would land now
    expect(await readdir(parent)).toEqual([]);
  });
});
