import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/mediatypes.js';
import { push, type PushOptions } from '../../src/ops/push.js';
import type { OpContext } from '../../src/ops/support/context.js';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { parseReference } from '../../src/ref/reference.js';
import { SOURCE, useProxy, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * push with ifChanged against the real registry, every request counted by a proxy in front of it: an unchanged
 * content layer costs one manifest GET and nothing else, whatever the revision says.
 */
const registry = useRegistry();
const work = useWorkDir();
const proxy = useProxy(registry);

const ctx = (): OpContext => ({ signal: new AbortController().signal, repositoryOptions: {}, cwd: work.path });
const revision = (n: number): string => `main@sha1:${String(n).repeat(40).slice(0, 40)}`;

async function tree(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(work.path, name);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) await writeFile(join(dir, rel), content);
  return dir;
}

/** Push through the proxy; the requests it made, as `METHOD /path STATUS`. */
async function measured(options: Omit<PushOptions, 'source'>): Promise<{ result: Awaited<ReturnType<typeof push>>; log: string[] }> {
  proxy.reset();
  const result = await push({ source: SOURCE, ...options }, ctx());
  await proxy.idle();
  return { result, log: proxy.log.map((e) => `${e.method} ${e.path.replace(/\?.*/, '')} ${e.status}`) };
}

const ref = (repo: string, tag: string) => parseReference(`oci://${proxy.host}/${repo}:${tag}`);
const writes = (log: string[]): string[] => log.filter((l) => !l.startsWith('GET '));

describe('push --if-changed (ifChanged)', () => {
  it('pushes to a tag that does not exist yet, then skips the same content under a new revision with one GET', async () => {
    const dir = await tree('app', { 'deploy.yaml': 'kind: Deployment\n' });
    const first = await measured({ ref: ref('ifc/app', 'prod'), path: dir, revision: revision(1), ifChanged: true });
    expect(first.result.pushed).toBe(true);
    expect(first.log.some((l) => l.startsWith('PUT /v2/ifc/app/manifests/prod')), first.log.join('\n')).toBe(true);

    const again = await measured({ ref: ref('ifc/app', 'prod'), path: dir, revision: revision(2), ifChanged: true });
    expect(again.result).toMatchObject({ pushed: false, digest: first.result.digest, revision: revision(1) });
    expect(again.log, 'one manifest GET, no HEAD, no upload, no manifest PUT').toEqual(['GET /v2/ifc/app/manifests/prod 200']);
  });

  it('pushes when the content changed, and always without the flag', async () => {
    const dir = await tree('app2', { 'deploy.yaml': 'kind: Deployment\n' });
    const first = await measured({ ref: ref('ifc/app2', 'prod'), path: dir, revision: revision(1), ifChanged: true });
    await writeFile(join(dir, 'deploy.yaml'), 'kind: Deployment\nspec: {}\n');
    const changed = await measured({ ref: ref('ifc/app2', 'prod'), path: dir, revision: revision(2), ifChanged: true });
    expect(changed.result.pushed).toBe(true);
    expect(changed.result.digest).not.toBe(first.result.digest);
    expect(changed.log.some((l) => l.startsWith('PUT /v2/ifc/app2/manifests/prod 201')), changed.log.join('\n')).toBe(true);

    const plain = await measured({ ref: ref('ifc/app2', 'prod'), path: dir, revision: revision(3) });
    expect(plain.result.pushed).toBe(true);
    expect(plain.result.digest, 'a new revision is a new digest without the flag').not.toBe(changed.result.digest);
  });

  it('content too large to hold is hashed without an upload, and streamed only when it changed', async () => {
    const dir = await tree('big', { 'data.bin': randomBytes(256 * 1024) });
    const limit = { inMemoryLimit: 16 * 1024 };
    const first = await measured({ ref: ref('ifc/big', 'v1'), path: dir, revision: revision(1), ifChanged: true, ...limit });
    expect(first.result.pushed).toBe(true);
    const again = await measured({ ref: ref('ifc/big', 'v1'), path: dir, revision: revision(2), ifChanged: true, ...limit });
    expect(again.result).toMatchObject({ pushed: false, digest: first.result.digest });
    expect(again.log, 'one manifest GET, nothing else').toEqual(['GET /v2/ifc/big/manifests/v1 200']);
    await writeFile(join(dir, 'more.bin'), randomBytes(64 * 1024));
    const changed = await measured({ ref: ref('ifc/big', 'v1'), path: dir, revision: revision(3), ifChanged: true, ...limit });
    expect(changed.result.pushed).toBe(true);
    expect(writes(changed.log).some((l) => l.startsWith('POST /v2/ifc/big/blobs/uploads/')), changed.log.join('\n')).toBe(true);
  });

  it('replaces what is not an artifact with a content layer (an index under the tag)', async () => {
    const dir = await tree('app3', { 'a.yaml': 'a: 1\n' });
    const pushed = await push({ ref: ref('ifc/app3', 'v1'), path: dir, source: SOURCE, revision: revision(1) }, ctx());
    const repo = await openRepository(ref('ifc/app3', 'v1'));
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [{ mediaType: MediaType.OciManifest, digest: pushed.digest, size: 1 }],
    }));
    await repo.putManifest('idx', index, MediaType.OciIndex);
    await repo.close();
    const over = await measured({ ref: ref('ifc/app3', 'idx'), path: dir, revision: revision(2), ifChanged: true });
    expect(over.result.pushed).toBe(true);
  });
});
