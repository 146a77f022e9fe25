import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLog } from '../../src/ops/support/open-repository.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository } from '../../src/registry/client.js';
import { startConnectProxy, type ConnectProxy } from '../helpers/connect-proxy.js';
import { useRegistry } from '../helpers/fixtures.js';

/**
 * Hosts as users type them: `LOCALHOST:PORT` gets the loopback plain-HTTP fallback and `Vm:PORT` with
 * --insecure-registry gets plain HTTP, as their lower-case spellings do. The real plain-HTTP registry; `Vm` is
 * reached through a CONNECT proxy that routes that name to it (no DNS needed).
 */
const registry = useRegistry();
let proxy: ConnectProxy;
const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };

beforeAll(async () => {
  proxy = await startConnectProxy({ routes: { vm: registry.host } });
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await proxy?.stop();
});

const port = (): string => registry.host.split(':')[1]!;

describe('registry host names in any case', () => {
  it('LOCALHOST:PORT falls back to plain HTTP like localhost:PORT', async () => {
    const logs: RequestLog[] = [];
    const repo = openRegistryRepository(parseRegistryReference(`oci://LOCALHOST:${port()}/case/app:v1`), { onRequest: (l) => logs.push(l) });
    expect(await repo.hasBlob(`sha256:${'a'.repeat(64)}`)).toBe(false);
    expect(logs.at(-1)).toMatchObject({ url: expect.stringMatching(/^http:\/\/localhost:\d+\//), status: 404 });
  });

  it('Vm:PORT with --insecure-registry uses plain HTTP like vm:PORT', async () => {
    process.env.HTTPS_PROXY = proxy.url;
    process.env.HTTP_PROXY = proxy.url;
    delete process.env.NO_PROXY;
    const logs: RequestLog[] = [];
    const repo = openRegistryRepository(parseRegistryReference(`oci://Vm:${port()}/case/app:v1`), { insecure: true, onRequest: (l) => logs.push(l) });
    expect(await repo.hasBlob(`sha256:${'b'.repeat(64)}`)).toBe(false);
    expect(logs.at(-1)).toMatchObject({ url: expect.stringMatching(/^http:\/\/vm:\d+\//), status: 404 });
    expect(proxy.tunnels.every((t) => t === `vm:${port()}`)).toBe(true);
  });
});
