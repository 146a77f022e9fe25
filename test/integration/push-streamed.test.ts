import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeArchiveFile } from '../../src/artifact/pack.js';
import { push } from '../../src/ops/push.js';
import type { OpContext } from '../../src/ops/support/context.js';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { parseReference } from '../../src/ref/reference.js';
import { REVISION, SOURCE, useProxy, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * push with the default in-memory limit and chunk size against the real registry, every request counted by a
 * proxy: content up to the limit is held and re-pushed at HEADs only; larger content streams, its held head handed
 * to the uploader as the first whole chunks and then refilled as the chunk buffers (registry/upload.ts).
 */
const registry = useRegistry();
const work = useWorkDir();
const proxy = useProxy(registry);

const ctx = (): OpContext => ({ signal: new AbortController().signal, repositoryOptions: {}, cwd: work.path });

async function tree(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(work.path, name);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) await writeFile(join(dir, rel), content);
  return dir;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream as AsyncIterable<Buffer>) parts.push(part);
  return Buffer.concat(parts);
}

describe('push: held head and streamed upload', () => {
  it('streams content past the held 16 MiB: the head goes as the first whole chunks, the layer is the bytes build writes', async () => {
    // Random bytes do not compress: ~20 MiB of layer, past the 16 MiB head, in 8 MiB chunks.
    const dir = await tree('big', { 'data.bin': randomBytes(20 * 1024 * 1024), 'app.yaml': 'kind: ConfigMap\n' });
    const built = await writeArchiveFile(dir, {}, join(work.path, 'big.tgz'));

    proxy.reset();
    const ref = parseReference(`oci://${proxy.host}/streamed/big:v1`);
    const pushed = await push({ ref, path: dir, source: SOURCE, revision: REVISION }, ctx());
    await proxy.idle();
    expect(pushed.layer).toMatchObject({ digest: built.digest, size: built.size });
    const patches = proxy.log.filter((e) => e.method === 'PATCH');
    expect(patches.map((e) => e.status), proxy.log.map((e) => `${e.method} ${e.path} ${e.status}`).join('\n')).toEqual([202, 202]);

    const repo = await openRepository(ref);
    try {
      const stored = await readAll(await repo.openBlob(pushed.layer));
      const { readFile } = await import('node:fs/promises');
      expect(stored.equals(await readFile(join(work.path, 'big.tgz')))).toBe(true);
    } finally {
      await repo.close();
    }

    // The same content into an OCI layout: the head is written first there too.
    const layoutRef = parseReference(`oci-layout://${join(work.path, 'layout')}:v1`);
    const inLayout = await push({ ref: layoutRef, path: dir, source: SOURCE, revision: REVISION }, ctx());
    expect(inLayout.layer).toMatchObject({ digest: built.digest, size: built.size });
  });

  it('re-pushes unchanged content it holds with HEADs only: no upload', async () => {
    const dir = await tree('small', { 'deploy.yaml': 'kind: Deployment\n', 'data.bin': randomBytes(2 * 1024 * 1024) });
    const ref = parseReference(`oci://${proxy.host}/streamed/small:v1`);
    await push({ ref, path: dir, source: SOURCE, revision: REVISION }, ctx());
    proxy.reset();
    const again = await push({ ref, path: dir, source: SOURCE, revision: 'main@sha1:1111111111111111111111111111111111111111' }, ctx());
    await proxy.idle();
    expect(again.blobs).toEqual({ [again.layer.digest]: 'exists', [again.config.digest]: 'exists' });
    const log = proxy.log.map((e) => `${e.method} ${e.path.replace(/\?.*/, '')}`);
    expect(log.filter((l) => /^(POST|PATCH) /.test(l) || l.startsWith('PUT /v2/streamed/small/blobs/')), log.join('\n')).toEqual([]);
    expect(log.filter((l) => l.startsWith('HEAD /v2/streamed/small/blobs/')).sort()).toEqual(
      [again.layer.digest, again.config.digest].map((d) => `HEAD /v2/streamed/small/blobs/${d}`).sort());
  });
});
