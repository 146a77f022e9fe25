import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/mediatypes.js';
import type { Descriptor } from '../../src/oci/types.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository, type RegistryClientOptions, type RegistryRepository } from '../../src/registry/client.js';
import type { RequestLog } from '../../src/registry/http.js';
import { startProxy } from '../helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { failure } from '../helpers/expect-error.js';

/**
 * The real registry with auth.token: it validates every token our token server signs (x5c chain to its
 * rootcertbundle, issuer, audience, expiry, granted actions), so a wrong scope fails here as it would at GHCR.
 */
const USER = 'tokenuser';
const CANARY = 'canary-token-pw-5d1e8b7a';

let rsa: TestRegistry;
let ec: TestRegistry;
let shortLived: TestRegistry;
const logs: RequestLog[] = [];

beforeAll(async () => {
  [rsa, ec, shortLived] = await Promise.all([
    startRegistry({ token: { users: { [USER]: CANARY } } }),
    startRegistry({ token: { users: { [USER]: CANARY }, keyType: 'ec' } }),
    startRegistry({ token: { users: { [USER]: CANARY }, expiresIn: 7 } }),
  ]);
});

afterAll(async () => {
  await Promise.all([rsa?.stop(), ec?.stop(), shortLived?.stop()]);
  // Nothing we logged (URLs, headers) may hold the password.
  expect(JSON.stringify(logs)).not.toContain(CANARY);
});

function repo(host: string, name: string, options: RegistryClientOptions = {}): RegistryRepository {
  return openRegistryRepository(parseRegistryReference(`oci://${host}/${name}`), {
    retry: { baseDelayMs: 10 }, creds: `${USER}:${CANARY}`, onRequest: (e) => logs.push(e), ...options,
  });
}

function blob(content: string, mediaType: string = MediaType.OciLayerTarGzip): { desc: Descriptor; bytes: Buffer } {
  const bytes = Buffer.from(content);
  return { bytes, desc: { mediaType, digest: digestOf(bytes), size: bytes.length } };
}

async function pushArtifact(r: RegistryRepository, tag: string, seed: string): Promise<{ digest: string; layer: Descriptor }> {
  const config = blob('{}', MediaType.FluxConfig);
  const layer = blob(`layer ${seed}`);
  await r.pushBlob(config.desc, config.bytes);
  await r.pushBlob(layer.desc, layer.bytes);
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: config.desc, layers: [layer.desc] }));
  return { digest: await r.putManifest(tag, bytes, MediaType.OciManifest), layer: layer.desc };
}

describe('token authentication against the real registry', () => {
  it('pushes with one pull,push token, then reads back, tags and lists (RS256 signer)', async () => {
    const before = rsa.token!.requests.length;
    const r = repo(rsa.host, 'team/app');
    const { digest } = await pushArtifact(r, 'v1', 'rsa');
    const pushTokens = rsa.token!.requests.slice(before);
    expect(pushTokens.map((t) => t.scopes)).toEqual([['repository:team/app:pull,push']]);
    expect(pushTokens[0]).toMatchObject({ method: 'GET', user: USER, service: rsa.token!.service });

    const fetched = await r.getManifest('v1');
    expect(fetched.digest).toBe(digest);
    await r.putManifest('v2', fetched.bytes, fetched.mediaType);
    expect((await r.listTags()).sort()).toEqual(['v1', 'v2']);
    // Reads are covered by the pull,push token already held: no second token.
    expect(rsa.token!.requests.length - before).toBe(1);
  });

  it('works with an ES256 signing certificate too', async () => {
    const r = repo(ec.host, 'ec/app');
    const { digest } = await pushArtifact(r, 'v1', 'ec');
    expect((await r.resolve('v1'))?.digest).toBe(digest);
  });

  it('asks for pull only when only reading', async () => {
    await pushArtifact(repo(rsa.host, 'readers/app'), 'v1', 'readers');
    const before = rsa.token!.requests.length;
    // A new credential (fresh cache key) with the same user: the password differs only in case the cache leaks.
    const reader = repo(rsa.host, 'readers/app', { creds: `${USER}:${CANARY}`, dockerConfigDir: '/nonexistent' });
    await reader.getManifest('v1');
    const asked = rsa.token!.requests.slice(before).map((t) => t.scopes);
    // The cached pull,push token from the push covers it, or a pull token is fetched: never pull,push for a read.
    for (const scopes of asked) expect(scopes).toEqual(['repository:readers/app:pull']);
  });

  it('asks for both repositories when mounting across repositories', async () => {
    const { layer } = await pushArtifact(repo(rsa.host, 'mount/source'), 'v1', 'mount');
    const before = rsa.token!.requests.length;
    const target = repo(rsa.host, 'mount/target');
    expect(await target.mountBlob(layer, 'mount/source')).toBe(true);
    expect(rsa.token!.requests.slice(before).map((t) => t.scopes)).toEqual([
      ['repository:mount/target:pull,push', 'repository:mount/source:pull'],
    ]);
    expect(await target.hasBlob(layer.digest)).toBe(true);
  });

  it('refuses a mount when the token grants no pull on the source (the registry checks the scope)', async () => {
    const registry = await startRegistry({
      token: { users: { [USER]: CANARY }, grant: (_u, _t, name, actions) => (name === 'locked/source' ? [] : actions) },
    });
    try {
      const layer = blob('locked layer');
      // Put the blob in the source through a repository the grant allows, then mount it from the locked name.
      await repo(registry.host, 'open/source').pushBlob(layer.desc, layer.bytes);
      expect(await repo(registry.host, 'open/target').mountBlob(layer.desc, 'open/source')).toBe(true);
      expect(await repo(registry.host, 'locked/target').mountBlob(layer.desc, 'locked/source')).toBe(false);
    } finally {
      await registry.stop();
    }
  });

  it('reuses a token until expires_in, then fetches a new one', async () => {
    const r = repo(shortLived.host, 'short/app');
    await pushArtifact(r, 'v1', 'short');
    const after = shortLived.token!.requests.length;
    await r.getManifest('v1');
    expect(shortLived.token!.requests.length).toBe(after);
    // expires_in 7 s less the 5 s safety margin: stale after 2 s.
    await sleep(2_300);
    await r.getManifest('v1');
    expect(shortLived.token!.requests.length).toBe(after + 1);
  });

  it('retries once with a fresh token when the registry answers 401 to a token it issued', async () => {
    let rejected = 0;
    const proxy = await startProxy({
      target: rsa.host,
      onRequest: (req) => {
        // The first authorised manifest read is refused as if the token had been revoked.
        if (rejected > 0 || req.method !== 'GET' || !req.path.includes('/manifests/') || !req.headers.authorization?.startsWith('Bearer ')) return undefined;
        rejected++;
        return {
          kind: 'respond',
          status: 401,
          headers: { 'www-authenticate': `Bearer realm="${rsa.token!.realm}",service="${rsa.token!.service}",scope="repository:retry/app:pull"` },
        };
      },
    });
    try {
      const r = repo(proxy.host, 'retry/app');
      await pushArtifact(r, 'v1', 'retry');
      const before = rsa.token!.requests.length;
      await r.getManifest('v1');
      expect(rejected).toBe(1);
      expect(rsa.token!.requests.length - before).toBe(1);
      await proxy.idle();
      expect(proxy.log.filter((r) => r.method === 'GET' && r.path.startsWith('/v2/retry/app/manifests/v1'))).toHaveLength(2);
    } finally {
      await proxy.stop();
    }
  });

  it('fails at once on a wrong password, with a clear message that does not show it', async () => {
    const before = rsa.token!.requests.length;
    const err = await failure(repo(rsa.host, 'team/app', { creds: `${USER}:wrong-${CANARY}` }).getManifest('v1'));
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', kind: 'auth' });
    expect(err.message).toMatch(/rejected the credentials from --creds/);
    expect(`${err.message} ${err.hint}`).not.toContain(CANARY);
    expect(rsa.token!.requests.length - before).toBe(1);
  });

  it('says authentication is required when anonymous', async () => {
    const err = await failure(repo(rsa.host, 'team/app', { creds: undefined, dockerConfigDir: '/nonexistent' }).getManifest('v1'));
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', kind: 'auth' });
    expect(err.message).toMatch(/requires authentication/);
  });

  it('exchanges a Docker identity token (refresh token) with the OAuth2 POST form', async () => {
    const refresh = rsa.token!.issueRefreshToken(USER);
    const dir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/idtoken-`);
    (await import('node:fs')).writeFileSync(`${dir}/config.json`, JSON.stringify({
      auths: { [rsa.host]: { auth: Buffer.from('<token>:').toString('base64'), identitytoken: refresh } },
    }));
    const before = rsa.token!.requests.length;
    const r = repo(rsa.host, 'team/app', { creds: undefined, dockerConfigDir: dir });
    expect((await r.getManifest('v1')).digest).toMatch(/^sha256:/);
    expect(rsa.token!.requests.slice(before)).toMatchObject([{ method: 'POST', grantType: 'refresh_token', user: USER, scopes: ['repository:team/app:pull'] }]);
  });
});
