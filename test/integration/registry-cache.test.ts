import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type CommandRuntime } from '../../src/cli/runtime.js';
import { openRepository } from '../../src/ops/support/open-repository.js';
import { parseReference } from '../../src/ref/reference.js';
import type { RequestLog } from '../../src/registry/http.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/**
 * What a run learns about a registry (its challenge, the tokens it granted, its scheme) belongs to that run's
 * registry cache (registry-cache.ts), made by the runtime: two runtimes in one process, as two tests or two registries on one port
 * are, each meet the registry afresh, while the repositories of one runtime share what it learned.
 */
const USER = 'sessionuser';
const PASSWORD = 'session-pw-3c9e71';

const started: TestRegistry[] = [];
const runtimes: CommandRuntime[] = [];

afterEach(async () => {
  for (const runtime of runtimes.splice(0)) runtime.dispose();
  await Promise.all(started.splice(0).map((r) => r.stop()));
});

async function registry(options: Parameters<typeof startRegistry>[0]): Promise<TestRegistry> {
  const r = await startRegistry(options);
  started.push(r);
  return r;
}

async function runtime(): Promise<CommandRuntime> {
  const r = await createRuntime({ creds: `${USER}:${PASSWORD}`, timeout: '2m' });
  runtimes.push(r);
  return r;
}

/**
 * Resolve a tag that does not exist (no content needed); the status of each exchange, `https` for the TLS attempt
 * a run makes once to learn that the loopback registry speaks plain HTTP.
 */
async function resolveMissing(run: CommandRuntime, host: string, repository: string): Promise<Array<number | 'https'>> {
  const log: RequestLog[] = [];
  const repo = await openRepository(parseReference(`oci://${host}/${repository}:v1`), {
    ...run.ctx.repositoryOptions, onRequest: (entry) => log.push(entry),
  });
  expect(await repo.resolve('v1')).toBeUndefined();
  return log.map((entry) => entry.status ?? 'https');
}

describe('registry cache of a run', () => {
  it('two runtimes against one token registry each meet its challenge and get their own token', async () => {
    const reg = await registry({ token: { users: { [USER]: PASSWORD } } });
    const first = await runtime();
    const second = await runtime();

    expect(await resolveMissing(first, reg.host, 'team/app')).toEqual(['https', 401, 200, 404]); // scheme, challenge, token, answer
    // Another repository of the same runtime reuses the scheme, the challenge and the token: credentials go up front.
    expect(await resolveMissing(first, reg.host, 'team/app')).toEqual([404]);
    expect(reg.token!.requests).toHaveLength(1);

    // The second runtime holds nothing of the first's.
    expect(await resolveMissing(second, reg.host, 'team/app')).toEqual(['https', 401, 200, 404]);
    expect(reg.token!.requests).toHaveLength(2);
  });

  it('a registry started on the port of a stopped one is asked afresh (token auth there, Basic here)', async () => {
    const tokenRegistry = await registry({ token: { users: { [USER]: PASSWORD } } });
    const port = Number(tokenRegistry.host.split(':').pop());
    expect(await resolveMissing(await runtime(), tokenRegistry.host, 'app')).toEqual(['https', 401, 200, 404]);
    started.splice(started.indexOf(tokenRegistry), 1);
    await tokenRegistry.stop(); // its token service too

    const basicRegistry = await registry({ htpasswd: { username: USER, password: PASSWORD }, port });
    expect(basicRegistry.host).toBe(tokenRegistry.host);
    expect(await resolveMissing(await runtime(), basicRegistry.host, 'app')).toEqual(['https', 401, 404]);
  });
});
