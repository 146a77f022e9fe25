import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Descriptor, Repository } from '../../src/oci/types.js';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseReference } from '../../src/ref/reference.js';
import { ROOT, tempDir } from './cli.js';
import { startProxy, type LoopbackProxy } from './proxy.js';
import { startRegistry, type StartRegistryOptions, type TestRegistry } from './registry.js';

/** The small Kustomize tree most CLI tests push. */
export const KUSTOMIZE_FIXTURE = join(ROOT, 'fixtures', 'kustomize');

/** Provenance for `push` outside git and CI (where it cannot be detected); the values only need to be valid. */
export const SOURCE = 'https://example.invalid/org/repo';
export const REVISION = 'main@sha1:0123456789abcdef0123456789abcdef01234567';
export const PROVENANCE = ['--source', SOURCE, '--revision', REVISION];

/**
 * A value made in this file's beforeAll: a stand-in that forwards to it once it exists, so a test file can write
 * `const registry = useRegistry()` at the top and use `registry.host` in its tests as if it were the real one.
 */
function startedInBeforeAll<T extends object>(what: string, current: () => T | undefined): T {
  const get = (): T => {
    const value = current();
    if (value === undefined) throw new Error(`${what} is made in beforeAll: use it inside a hook or a test`);
    return value;
  };
  return new Proxy({} as T, { get: (_target, key) => Reflect.get(get(), key), set: (_target, key, value) => Reflect.set(get(), key, value) });
}

/** The real registry for this test file: started in beforeAll (before the file's own hooks), stopped in afterAll. */
export function useRegistry(options?: StartRegistryOptions): TestRegistry {
  let registry: TestRegistry | undefined;
  beforeAll(async () => {
    registry = await startRegistry(options);
  });
  afterAll(async () => {
    await registry?.stop();
  });
  return startedInBeforeAll('the test registry', () => registry);
}

/** A request-recording proxy in front of `registry` for this test file: started in beforeAll, stopped in afterAll. */
export function useProxy(registry: TestRegistry): LoopbackProxy {
  let proxy: LoopbackProxy | undefined;
  beforeAll(async () => {
    proxy = await startProxy({ target: registry.host });
  });
  afterAll(async () => {
    await proxy?.stop();
  });
  return startedInBeforeAll('the proxy', () => proxy);
}

/** A temporary work directory for this test file, removed with everything in it in afterAll. */
export function useWorkDir(prefix?: string): { readonly path: string } {
  let dir: { path: string; remove(): Promise<void> } | undefined;
  beforeAll(async () => {
    dir = await tempDir(prefix);
  });
  afterAll(async () => {
    await dir?.remove();
  });
  return startedInBeforeAll('the work directory', () => dir);
}

/** The digest a tag points to now, read through the library (not the CLI under test); undefined when absent. */
export async function resolveTag(reference: string): Promise<string | undefined> {
  const ref = parseReference(reference);
  const repo = await openRepository(ref);
  try {
    return (await repo.resolve(ref.tag as string))?.digest;
  } finally {
    await repo.close();
  }
}

/**
 * A small OCI artifact like the ones this tool pushes (Flux config, one content layer made unique per call, so each
 * call has its own digest), tagged `tag`: a subject for tests that sign, attest or copy through the library.
 */
export async function pushSmallArtifact(repo: Repository, tag = 'v1'): Promise<Descriptor> {
  const pushBlob = async (mediaType: string, bytes: Buffer): Promise<Descriptor> => {
    const desc = { mediaType, digest: digestOf(bytes), size: bytes.length };
    await repo.pushBlob(desc, bytes);
    return desc;
  };
  const config = await pushBlob('application/vnd.cncf.flux.config.v1+json', Buffer.from('{}'));
  const layer = await pushBlob('application/vnd.cncf.flux.content.v1.tar+gzip', Buffer.from(`content ${Math.random()}`));
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config, layers: [layer] }));
  await repo.putManifest(tag, bytes, mediaType);
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}
