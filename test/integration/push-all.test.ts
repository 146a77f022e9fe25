import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readArchiveEntries } from '../../src/artifact/archive-entries.js';
import { pushAll, readPushAllFile } from '../../src/ops/push-all.js';
import type { OpContext } from '../../src/ops/support/context.js';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { parseReference } from '../../src/ref/reference.js';
import { ROOT } from '../helpers/cli.js';
import { REVISION, SOURCE, useProxy, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * push --all of the monorepo fixture (five apps, two environments: ten artifacts) against the real registry, with
 * every request counted by a proxy: the first run pushes all ten, a run over unchanged content uploads nothing and
 * writes nothing, a change to one app pushes only that app's artifacts.
 */
const registry = useRegistry();
const work = useWorkDir();
const proxy = useProxy(registry);
let repo: string;

beforeAll(async () => {
  repo = join(work.path, 'monorepo');
  await cp(join(ROOT, 'fixtures', 'monorepo'), repo, { recursive: true });
});

const SHA = 'a'.repeat(40);
function ctx(env: Record<string, string> = {}): OpContext {
  return { signal: new AbortController().signal, repositoryOptions: {}, cwd: repo, env: { REGISTRY: proxy.host, GIT_SHA: SHA, ...env } };
}

async function run(env?: Record<string, string>) {
  proxy.reset();
  const file = await readPushAllFile(undefined, ctx(env));
  const result = await pushAll({ file, source: SOURCE, revision: REVISION }, ctx(env));
  await proxy.idle();
  return { result, log: proxy.log.map((e) => `${e.method} ${e.path.replace(/\?.*/, '')} ${e.status}`) };
}

describe('push --all (oci-artifact.yaml)', () => {
  it('pushes every artifact, then re-pushes unchanged content with no upload and no write at all', async () => {
    const cold = await run();
    expect(cold.result.failed).toEqual([]);
    expect(cold.result.artifacts).toHaveLength(10);
    expect(cold.result.artifacts.every((a) => a.status === 'pushed'), JSON.stringify(cold.result.artifacts)).toBe(true);
    expect(cold.result.artifacts.map((a) => a.name)).toEqual([
      'web-staging', 'web-production', 'api-staging', 'api-production', 'worker-staging', 'worker-production',
      'db-staging', 'db-production', 'cache-staging', 'cache-production',
    ]);
    // The environment's sha tag names the same digest as the environment tag.
    const web = cold.result.artifacts[1]!;
    expect(web.tags).toEqual([`production-${SHA}`]);
    const shaRepo = await openRepository(parseReference(`oci://${proxy.host}/monorepo/web:production`));
    expect((await shaRepo.resolve(`production-${SHA}`))?.digest).toBe(web.digest);

    // Three sources in one artifact; web's .sourceignore leaves NOTES.md out.
    const manifest = JSON.parse((await shaRepo.getManifest(web.digest!)).bytes.toString()) as { layers: Array<{ digest: string; size: number; mediaType: string }> };
    const layer = await shaRepo.openBlob(manifest.layers[0]!);
    const names = (await readArchiveEntries(layer)).map((e) => e.path);
    await shaRepo.close();
    expect(names).toEqual(expect.arrayContaining(['base/deployment.yaml', 'base/.sourceignore', 'production/kustomization.yaml', 'shared/namespaces.yaml']));
    expect(names).not.toContain('base/NOTES.md');

    const again = await run({ GIT_SHA: 'b'.repeat(40) });
    expect(again.result.artifacts.every((a) => a.status === 'unchanged'), JSON.stringify(again.result.artifacts)).toBe(true);
    expect(again.result.artifacts.map((a) => a.digest)).toEqual(cold.result.artifacts.map((a) => a.digest));
    expect(again.log.filter((l) => !l.startsWith('GET ')), 'no HEAD, no upload, no manifest PUT').toEqual([]);
    expect(again.log).toHaveLength(10);
  });

  it('pushes only the artifacts whose content changed', async () => {
    const file = join(repo, 'apps/api/base/deployment.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('1.0.0', '1.0.1'));
    const { result, log } = await run({ GIT_SHA: 'c'.repeat(40) });
    const pushed = result.artifacts.filter((a) => a.status === 'pushed').map((a) => a.name);
    expect(pushed).toEqual(['api-staging', 'api-production']);
    expect(log.filter((l) => l.startsWith('PUT ') && l.includes('/manifests/')).sort()).toEqual([
      'PUT /v2/monorepo/api/manifests/production 201', `PUT /v2/monorepo/api/manifests/production-${'c'.repeat(40)} 201`,
      'PUT /v2/monorepo/api/manifests/staging 201', `PUT /v2/monorepo/api/manifests/staging-${'c'.repeat(40)} 201`,
    ]);
  });

  it('finishes the other artifacts when one fails, and names the one that failed', async () => {
    proxy.onRequest = (req) => (req.path.startsWith('/v2/monorepo/db/') ? { kind: 'respond', status: 403, body: '{"errors":[{"code":"DENIED","message":"no"}]}', headers: { 'content-type': 'application/json' } } : undefined);
    try {
      const { result } = await run({ GIT_SHA: 'd'.repeat(40) });
      expect(result.failed.map((a) => a.name)).toEqual(['db-staging', 'db-production']);
      expect(result.artifacts.filter((a) => a.status !== 'failed')).toHaveLength(8);
      expect(String(result.failed[0]!.error)).toContain('monorepo/db');
    } finally {
      proxy.onRequest = undefined;
    }
  });
});
