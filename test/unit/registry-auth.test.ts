import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryScope, resolveCredential } from '../../src/registry/auth.js';

function dockerConfig(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'docker-config-'));
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const noEnv = {};

describe('resolveCredential', () => {
  it('reads --creds as user:password, splitting at the first colon', async () => {
    expect(await resolveCredential('r.io', { creds: 'bob:pa:ss', env: noEnv })).toEqual({ username: 'bob', password: 'pa:ss', source: '--creds' });
  });

  it('reads --creds without a colon as a bearer token (Flux semantics)', async () => {
    expect(await resolveCredential('r.io', { creds: 'ghp_token', env: noEnv })).toEqual({ token: 'ghp_token', source: '--creds' });
  });

  it('prefers --creds over the environment, and the environment over the Docker config', async () => {
    const dir = dockerConfig({ auths: { 'r.io': { auth: b64('cfg:cfgpw') } } });
    const env = { OCI_ARTIFACT_USERNAME: 'envuser', OCI_ARTIFACT_PASSWORD: 'envpw' };
    expect((await resolveCredential('r.io', { creds: 'a:b', env, dockerConfigDir: dir }))?.username).toBe('a');
    expect((await resolveCredential('r.io', { env, dockerConfigDir: dir }))?.username).toBe('envuser');
    expect((await resolveCredential('r.io', { env: noEnv, dockerConfigDir: dir }))?.username).toBe('cfg');
  });

  it('matches Docker config keys with or without scheme and path', async () => {
    const dir = dockerConfig({
      auths: {
        'https://r.io/v1/': { auth: b64('one:1') },
        'http://localhost:5000': { username: 'two', password: '2' },
        'other.io': { auth: b64('three:3') },
      },
    });
    expect(await resolveCredential('r.io', { env: noEnv, dockerConfigDir: dir })).toMatchObject({ username: 'one', password: '1' });
    expect(await resolveCredential('localhost:5000', { env: noEnv, dockerConfigDir: dir })).toMatchObject({ username: 'two', password: '2' });
    expect(await resolveCredential('nowhere.io', { env: noEnv, dockerConfigDir: dir })).toBeUndefined();
  });

  it('finds Docker Hub under its historical key', async () => {
    const dir = dockerConfig({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } });
    expect(await resolveCredential('docker.io', { env: noEnv, dockerConfigDir: dir })).toMatchObject({ username: 'hub', password: 'pw' });
  });

  it('takes the identity token', async () => {
    const dir = dockerConfig({ auths: { 'r.io': { auth: b64('<token>:'), identitytoken: 'refresh' } } });
    expect(await resolveCredential('r.io', { env: noEnv, dockerConfigDir: dir })).toMatchObject({ identityToken: 'refresh' });
  });

  it('is anonymous without any source, and uses DOCKER_CONFIG from the environment', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-config-'));
    expect(await resolveCredential('r.io', { env: { DOCKER_CONFIG: empty } })).toBeUndefined();
    const dir = dockerConfig({ auths: { 'r.io': { auth: b64('viaenv:x') } } });
    expect((await resolveCredential('r.io', { env: { DOCKER_CONFIG: dir } }))?.username).toBe('viaenv');
  });

  it('reports a broken config file as a usage error without its contents', async () => {
    const dir = dockerConfig('{ "auths": { "r.io": { "auth": "c2VjcmV0" ');
    const err = await resolveCredential('r.io', { env: noEnv, dockerConfigDir: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DOCKER_CONFIG_INVALID', kind: 'usage' });
    expect((err as Error).message).not.toContain('c2VjcmV0');
  });
});

describe('repositoryScope', () => {
  it('names pull or pull,push', () => {
    expect(repositoryScope('org/app')).toBe('repository:org/app:pull');
    expect(repositoryScope('org/app', true)).toBe('repository:org/app:pull,push');
  });
});
