import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diff } from '../../src/ops/diff.js';
import { push } from '../../src/ops/push.js';
import type { OpContext } from '../../src/ops/support/context.js';
import { HELD_CONTENT_BYTES } from '../../src/ops/support/diff-sides.js';
import type { RequestLog } from '../../src/ops/support/open-repository.js';
import { parseReference } from '../../src/ref/reference.js';
import { SOURCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * `diff --unified` of two artifacts whose text is more than HELD_CONTENT_BYTES, against the real registry: the
 * listing holds hashes only, and the changed files are read back from each layer afterwards, so two large trees
 * are never held side by side; the patches are those of the changed files all the same.
 */
const registry = useRegistry();
const work = useWorkDir('oci-artifact-diff-large-');
const FILES = 20;
const FILE_BYTES = 1024 * 1024;

/** FILES text files of FILE_BYTES (numbered lines), `changes` rewriting one line of the files named. */
async function tree(name: string, changes: Record<string, string> = {}): Promise<string> {
  const dir = join(work.path, name);
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < FILES; i++) {
    const file = `file-${String(i).padStart(2, '0')}.txt`;
    const lines: string[] = [];
    for (let n = 0; lines.length * 32 < FILE_BYTES - 64; n++) lines.push(`${file} line ${String(n).padStart(6, '0')} ${'-'.repeat(8)}`);
    let text = `${lines.join('\n')}\n`;
    if (changes[file] !== undefined) text = text.replace(`${file} line 000100 --------`, changes[file]!);
    await writeFile(join(dir, file), text.slice(0, FILE_BYTES));
  }
  return dir;
}

describe('diff --unified of artifacts larger than the content it holds', () => {
  it('reads the changed files back from each layer and renders their patches', async () => {
    expect(FILES * FILE_BYTES).toBeGreaterThan(HELD_CONTENT_BYTES);
    const requests: RequestLog[] = [];
    const ctx: OpContext = { signal: AbortSignal.timeout(120_000), repositoryOptions: { onRequest: (r) => requests.push(r) }, cwd: work.path };
    const ref = (tag: string) => parseReference(`oci://${registry.host}/diff/large:${tag}`);
    const provenance = { source: SOURCE, revision: 'main@sha1:0123456789abcdef0123456789abcdef01234567' };
    await push({ ref: ref('v1'), path: await tree('v1'), ...provenance }, ctx);
    await push({ ref: ref('v2'), path: await tree('v2', { 'file-03.txt': 'changed early', 'file-17.txt': 'changed late' }), ...provenance }, ctx);

    requests.length = 0;
    const result = await diff({ ref: ref('v1'), against: { ref: ref('v2') }, unified: true, maxSize: 0 }, ctx);
    expect(result.changes.map((c) => [c.path, c.status])).toEqual([['file-03.txt', 'modified'], ['file-17.txt', 'modified']]);
    expect(result.patches?.map((p) => p.path)).toEqual(['file-03.txt', 'file-17.txt']);
    expect(result.patches?.[0]?.patch).toContain('\n-file-03.txt line 000100 --------\n+changed early\n');
    expect(result.patches?.[1]?.patch).toContain('\n-file-17.txt line 000100 --------\n+changed late\n');
    // Each layer twice: listed with hashes only, then read back for the two changed files.
    const layerReads = requests.filter((r) => r.method === 'GET' && r.url.includes('/blobs/sha256:') && r.status === 200);
    expect(layerReads).toHaveLength(4);
  }, 120_000);
});
