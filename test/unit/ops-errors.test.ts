import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import { build } from '../../src/ops/build.js';
import type { OpContext } from '../../src/ops/support/context.js';
import { diff } from '../../src/ops/diff.js';
import { pull } from '../../src/ops/pull.js';
import { push } from '../../src/ops/push.js';
import { tag } from '../../src/ops/tag.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseLayoutReference } from '../../src/ref/reference.js';

/** Error paths of the operations that need no registry: an OCI layout in a temp directory stands in. */
let dir: string;
let layout: string;
const ctx = (): OpContext => ({ signal: new AbortController().signal, repositoryOptions: {}, cwd: dir });
const ref = (version: string) => parseLayoutReference(`oci-layout://${layout}${version}`);

async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oci-artifact-ops-errors-'));
  layout = join(dir, 'layout');
  await mkdir(join(dir, 'tree'));
  await writeFile(join(dir, 'tree', 'a.yaml'), 'kind: A\n');
  await writeFile(join(dir, 'a-file'), 'x');
  const pushed = await push({ ref: ref(':v1'), path: 'tree', source: 'https://example.invalid/repo', revision: 'main@sha1:abc' }, ctx());
  // An image index over the artifact, under its own tag.
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [{ mediaType: MediaType.OciManifest, digest: pushed.digest, size: 500 }],
  }));
  const repo = await openRepository(ref(''), {});
  try {
    await repo.putManifest('index', index, MediaType.OciIndex);
    // An artifact whose only layer is a JSON document, not an archive.
    const empty = Buffer.from('{}');
    const json = Buffer.from('{"hello":"world"}\n');
    const config = { mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: empty.length };
    const layer = { mediaType: 'application/json', digest: digestOf(json), size: json.length, annotations: { 'org.opencontainers.image.title': 'doc.json' } };
    await repo.pushBlob(config, empty);
    await repo.pushBlob(layer, json);
    await repo.putManifest('json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] })), MediaType.OciManifest);
    for (const [name, title] of [['nul', 'a\0b.json'], ['long', `${'x'.repeat(250)}.json`]]) {
      const titled = { ...layer, annotations: { 'org.opencontainers.image.title': title as string } };
      await repo.putManifest(name as string, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [titled] })), MediaType.OciManifest);
    }
  } finally {
    await repo.close();
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('operation error paths', () => {
  it('pull refuses an output path that is a file, and an image index, writing nothing', async () => {
    const notDir = await failure(pull({ ref: ref(':v1'), output: 'a-file' }, ctx()));
    expect(notDir).toMatchObject({ code: 'OUTPUT_NOT_DIRECTORY' });
    expect(notDir.message).toContain("'a-file' exists and is not a directory");
    const index = await failure(pull({ ref: ref(':index'), output: 'out' }, ctx()));
    expect(index).toMatchObject({ code: 'NOT_AN_ARTIFACT' });
    expect(index.message).toContain('is an image index');
    await expect(rm(join(dir, 'out'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('pull refuses a non-archive layer by default, and writes it as its titled file when picked', async () => {
    expect(await failure(pull({ ref: ref(':json'), output: 'json-out' }, ctx()))).toMatchObject({ code: 'LAYER_NOT_FOUND' });
    const result = await pull({ ref: ref(':json'), output: 'json-out', layerMediaType: 'application/json' }, ctx());
    expect(result).toMatchObject({ mode: 'file', files: 1, output: join(dir, 'json-out', 'doc.json') });
    expect(await readFile(join(dir, 'json-out', 'doc.json'), 'utf8')).toBe('{"hello":"world"}\n');
  });

  it('pull names a picked layer by its digest when its title is not a usable file name', async () => {
    for (const name of ['nul', 'long']) {
      const result = await pull({ ref: ref(`:${name}`), output: `${name}-out`, layerIndex: 0 }, ctx());
      expect(result.output).toBe(join(dir, `${name}-out`, result.layer.digest.replace(':', '-')));
      expect(await readFile(result.output, 'utf8')).toBe('{"hello":"world"}\n');
    }
  });

  it('diff refuses ignore and symlink flags when both sides are artifacts', async () => {
    const err = await failure(diff({ ref: ref(':v1'), against: { ref: ref(':v1') }, ignorePaths: ['*.md'] }, ctx()));
    expect(err).toMatchObject({ code: 'FLAG_CONFLICT' });
  });

  it('tag needs at least one tag', async () => {
    expect(await failure(tag({ source: ref(':v1'), tags: [] }, ctx()))).toMatchObject({ code: 'TAG_MISSING' });
  });

  it('push and build name a missing path as the user wrote it', async () => {
    const pushed = await failure(push({ ref: ref(':v2'), path: 'nowhere', source: 's', revision: 'r' }, ctx()));
    const built = await failure(build({ path: 'nowhere', output: 'out.tgz' }, ctx()));
    for (const err of [pushed, built]) {
      expect(err).toMatchObject({ code: 'PATH_NOT_FOUND', message: "path 'nowhere' does not exist" });
    }
  });

  it('build refuses an output that is a directory', async () => {
    const err = await failure(build({ path: 'tree', output: 'tree' }, ctx()));
    expect(err).toMatchObject({ code: 'OUTPUT_IS_DIRECTORY' });
  });
});
