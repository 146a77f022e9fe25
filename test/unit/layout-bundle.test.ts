import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { openLayoutRepository } from '../../src/layout/repository.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseReference } from '../../src/ref/reference.js';
import { useWorkDir } from '../helpers/fixtures.js';

/** oci-layout://bundle.tar|.tar.gz|.tgz: a layout in one tar file, read in place, written whole at commit. */
const work = useWorkDir('layout-bundle-');

const blob = (content: string): { descriptor: Descriptor; bytes: Buffer } => {
  const bytes = Buffer.from(content);
  return { descriptor: { mediaType: 'text/plain', digest: digestOf(bytes), size: bytes.length }, bytes };
};

function manifestOf(layer: Descriptor): Buffer {
  const config = blob('{}').descriptor;
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { ...config, mediaType: MediaType.OciEmpty }, layers: [layer] }));
}

async function writeBundle(path: string, tag: string, content: string, commit = true): Promise<string> {
  const repo = await openLayoutRepository({ kind: 'layout', path }, { create: true });
  try {
    const layer = blob(content);
    await repo.pushBlob(blob('{}').descriptor, blob('{}').bytes);
    await repo.pushBlob(layer.descriptor, layer.bytes);
    const digest = await repo.putManifest(tag, manifestOf(layer.descriptor), MediaType.OciManifest);
    if (commit) await repo.commit();
    return digest;
  } finally {
    await repo.close();
  }
}

async function names(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('layout bundles', () => {
  it('reference parsing: a .tar, .tar.gz or .tgz path is a layout bundle, a tag after it as for a directory', () => {
    expect(parseReference('oci-layout://out/release.tar:v1')).toEqual({ kind: 'layout', path: 'out/release.tar', tag: 'v1' });
    expect(parseReference('oci-layout://release.tgz')).toEqual({ kind: 'layout', path: 'release.tgz' });
  });

  for (const name of ['release.tar', 'release.tar.gz', 'release.tgz']) {
    it(`${name}: written whole at commit, read back in place; a second write keeps what was there`, async () => {
      const dir = join(work.path, `round-${name}`);
      await mkdir(dir);
      const path = join(dir, name);
      const v1 = await writeBundle(path, 'v1', 'first release');
      const v2 = await writeBundle(path, 'v2', 'second release');
      // Nothing but the bundle is left beside it, and nothing in the temp directory.
      expect(await names(dir)).toEqual([name]);

      const listing = execFileSync('tar', ['-tf', path]).toString().trim().split('\n').sort();
      expect(listing).toContain('index.json');
      expect(listing).toContain('oci-layout');
      expect(listing.filter((n) => n.startsWith('blobs/sha256/'))).toHaveLength(5); // {} + 2 layers + 2 manifests

      const repo = await openLayoutRepository({ kind: 'layout', path });
      try {
        expect(await repo.listTags()).toEqual(['v1', 'v2']);
        expect((await repo.getManifest('v1')).digest).toBe(v1);
        expect((await repo.getManifest('v2')).digest).toBe(v2);
        expect(await text(await repo.openBlob(blob('first release').descriptor))).toBe('first release');
        expect((await repo.fetchBlob(blob('second release').descriptor)).toString()).toBe('second release');
        expect(await repo.hasBlob(blob('absent').descriptor.digest)).toBe(false);
      } finally {
        await repo.close();
      }
    });
  }

  it('reads a layout directory packed by GNU tar (./ prefixes, directory entries)', async () => {
    const dir = join(work.path, 'plain');
    const digest = await (async () => {
      const repo = await openLayoutRepository({ kind: 'layout', path: dir }, { create: true });
      const layer = blob('packed by tar');
      await repo.pushBlob(blob('{}').descriptor, blob('{}').bytes);
      await repo.pushBlob(layer.descriptor, layer.bytes);
      return repo.putManifest('v1', manifestOf(layer.descriptor), MediaType.OciManifest);
    })();
    const path = join(work.path, 'packed.tar');
    execFileSync('tar', ['-cf', path, '-C', dir, '.']);
    const repo = await openLayoutRepository({ kind: 'layout', path });
    expect((await repo.getManifest('v1')).digest).toBe(digest);
    expect(await text(await repo.openBlob(blob('packed by tar').descriptor))).toBe('packed by tar');
    await repo.close();
  });

  it('a close without commit leaves no bundle (and an existing one untouched), and no temporary file', async () => {
    const dir = join(work.path, 'uncommitted');
    await mkdir(dir);
    await writeBundle(join(dir, 'new.tar'), 'v1', 'never written', false);
    expect(await names(dir)).toEqual([]);

    await writeBundle(join(dir, 'kept.tar.gz'), 'v1', 'kept');
    const before = await readFile(join(dir, 'kept.tar.gz'));
    const tempsBefore = (await readdir(tmpdir())).filter((n) => n.startsWith('.kept.tar.gz'));
    await writeBundle(join(dir, 'kept.tar.gz'), 'v2', 'not committed', false);
    expect((await readFile(join(dir, 'kept.tar.gz'))).equals(before)).toBe(true);
    expect(await names(dir)).toEqual(['kept.tar.gz']);
    expect((await readdir(tmpdir())).filter((n) => n.startsWith('.kept.tar.gz'))).toEqual(tempsBefore);
  });

  it('a blob whose source fails half way is not stored, and the bundle can still be written', async () => {
    const path = join(work.path, 'broken-source.tar');
    const repo = await openLayoutRepository({ kind: 'layout', path }, { create: true });
    const failing = Readable.from((async function* () {
      yield Buffer.from('some bytes');
      throw new Error('connection reset');
    })());
    await expect(repo.pushBlobStream('text/plain', failing)).rejects.toThrow('connection reset');
    const layer = blob('after the failure');
    await repo.pushBlob(layer.descriptor, layer.bytes);
    await repo.pushBlob(blob('{}').descriptor, blob('{}').bytes);
    await repo.putManifest('v1', manifestOf(layer.descriptor), MediaType.OciManifest);
    await repo.commit();
    await repo.close();
    const entries = execFileSync('tar', ['-tf', path]).toString().trim().split('\n');
    expect(entries).toHaveLength(5);
    const back = await openLayoutRepository({ kind: 'layout', path });
    expect(await text(await back.openBlob(layer.descriptor))).toBe('after the failure');
    await back.close();
  });

  it('a blob stored twice (digest learnt at its end) is kept once', async () => {
    const path = join(work.path, 'dedupe.tar');
    const repo = await openLayoutRepository({ kind: 'layout', path }, { create: true });
    const first = await repo.pushBlobStream('text/plain', Readable.from([Buffer.from('same')]));
    const second = await repo.pushBlobStream('text/plain', Readable.from([Buffer.from('same')]));
    expect(second).toEqual(first);
    await repo.commit();
    await repo.close();
    expect(execFileSync('tar', ['-tf', path]).toString().trim().split('\n').filter((n) => n.startsWith('blobs/'))).toHaveLength(1);
  });

  it('refuses what is not a bundle in one line: a missing file, a file that is not tar, writes to a bundle opened for reading', async () => {
    await expect(openLayoutRepository({ kind: 'layout', path: join(work.path, 'missing.tar') })).rejects.toMatchObject({ code: 'LAYOUT_NOT_FOUND' });
    await writeFile(join(work.path, 'text.tar'), 'this is not a tar file, only text that is long enough '.repeat(20));
    await expect(openLayoutRepository({ kind: 'layout', path: join(work.path, 'text.tar') })).rejects.toMatchObject({ code: 'LAYOUT_INVALID' });
    await writeFile(join(work.path, 'text.tgz'), 'not gzip');
    await expect(openLayoutRepository({ kind: 'layout', path: join(work.path, 'text.tgz') })).rejects.toMatchObject({ code: 'LAYOUT_INVALID' });

    const path = join(work.path, 'read-only.tar');
    await writeBundle(path, 'v1', 'content');
    const repo = await openLayoutRepository({ kind: 'layout', path });
    await expect(repo.putManifest('v2', manifestOf(blob('content').descriptor), MediaType.OciManifest)).rejects.toMatchObject({ code: 'LAYOUT_READ_ONLY' });
    await repo.close();
    expect((await stat(path)).isFile()).toBe(true);
  });
});
