import { describe, expect, it } from 'vitest';
import type { RequestLog } from '../../src/ops/support/open-repository.js';
import { openRegistryRepository } from '../../src/registry/client.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { useRegistry } from '../helpers/fixtures.js';

/**
 * A plain-HTTP loopback registry is found by a failed TLS handshake (HTTPS first, as Docker does). Parallel first
 * requests must share that one probe, then go out together over HTTP.
 */
const registry = useRegistry();

describe('loopback scheme probe', () => {
  it('costs one failed handshake for parallel first requests', async () => {
    const logs: RequestLog[] = [];
    const repo = openRegistryRepository(parseRegistryReference(`oci://${registry.host}/probe/app:v1`), { onRequest: (l) => logs.push(l) });
    const digests = ['a', 'b', 'c'].map((c) => `sha256:${c.repeat(64)}`);
    expect(await Promise.all(digests.map((d) => repo.hasBlob(d)))).toEqual([false, false, false]);
    const https = logs.filter((l) => l.url.startsWith('https://'));
    expect(https).toHaveLength(1);
    expect(https[0]?.status).toBeUndefined();
    expect(logs.filter((l) => l.url.startsWith('http://') && l.status === 404)).toHaveLength(3);
  });
});
