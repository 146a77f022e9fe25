import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCredential } from '../../src/registry/credentials.js';
import { createCredentialHelper } from '../helpers/credential-helper.js';

function dockerConfig(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'docker-config-'));
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

const CANARY = 'canary-Pw-7f3a91c2e5b84d60';
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

describe('credential helpers in the Docker config', () => {
  it('asks the helper named in credHelpers for that registry, with the server URL on stdin', async () => {
    const helper = createCredentialHelper('perreg', { initial: { 'r.io': { Username: 'helped', Secret: CANARY } } });
    const dir = dockerConfig({ credHelpers: { 'r.io': 'perreg' }, credsStore: 'absent-store', auths: { 'r.io': { auth: b64('file:pw') } } });
    const cred = await resolveCredential('r.io', { env: { PATH: helper.path }, dockerConfigDir: dir });
    expect(cred).toEqual({ username: 'helped', password: CANARY, source: 'docker-credential-perreg' });
    expect(helper.log()).toEqual(['get r.io']);
  });

  it('uses credsStore for registries without their own helper, asking Docker Hub under its v1 URL', async () => {
    const helper = createCredentialHelper('store', { initial: { 'https://index.docker.io/v1/': { Username: 'hub', Secret: 'x' } } });
    const dir = dockerConfig({ credsStore: 'store' });
    expect(await resolveCredential('docker.io', { env: { PATH: helper.path }, dockerConfigDir: dir })).toMatchObject({ username: 'hub' });
    expect(helper.log()).toEqual(['get https://index.docker.io/v1/']);
  });

  it("reads the '<token>' user name as an identity token", async () => {
    const helper = createCredentialHelper('tok', { initial: { 'r.io': { Username: '<token>', Secret: 'refresh-abc' } } });
    const dir = dockerConfig({ credsStore: 'tok' });
    expect(await resolveCredential('r.io', { env: { PATH: helper.path }, dockerConfigDir: dir })).toEqual({ identityToken: 'refresh-abc', source: 'docker-credential-tok' });
  });

  it('falls back to auths when the helper holds nothing for the registry', async () => {
    const helper = createCredentialHelper('empty');
    const dir = dockerConfig({ credsStore: 'empty', auths: { 'r.io': { auth: b64('file:pw') } } });
    expect(await resolveCredential('r.io', { env: { PATH: helper.path }, dockerConfigDir: dir })).toMatchObject({ username: 'file', password: 'pw' });
  });

  it('names a helper that is not installed', async () => {
    const dir = dockerConfig({ credsStore: 'nowhere-to-be-found' });
    const err = await resolveCredential('r.io', { env: { PATH: '/nonexistent' }, dockerConfigDir: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CREDENTIAL_HELPER_MISSING', kind: 'auth' });
    expect((err as Error).message).toContain('docker-credential-nowhere-to-be-found');
  });

  it('names a failing helper and keeps secrets it prints out of the message', async () => {
    const helper = createCredentialHelper('broken', { failWith: `keychain locked; token=${CANARY}0123456789abcdef` });
    const dir = dockerConfig({ credsStore: 'broken' });
    const err = await resolveCredential('r.io', { env: { PATH: helper.path }, dockerConfigDir: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CREDENTIAL_HELPER_FAILED' });
    expect((err as Error).message).toMatch(/docker-credential-broken failed to get credentials \(exit 3\): keychain locked/);
    expect((err as Error).message).not.toContain(CANARY);
    expect((err as Error).message).not.toContain('7f3a91c2');
  });
});

describe('Podman auth file', () => {
  it('is read after the Docker config, from XDG_RUNTIME_DIR or REGISTRY_AUTH_FILE', async () => {
    const runtime = mkdtempSync(join(tmpdir(), 'xdg-'));
    mkdirSync(join(runtime, 'containers'));
    writeFileSync(join(runtime, 'containers', 'auth.json'), JSON.stringify({ auths: { 'r.io': { auth: b64('podman:pw') } } }));
    const docker = dockerConfig({ auths: { 'other.io': { auth: b64('docker:pw') } } });
    expect(await resolveCredential('r.io', { env: { XDG_RUNTIME_DIR: runtime }, dockerConfigDir: docker })).toMatchObject({ username: 'podman', source: join(runtime, 'containers', 'auth.json') });
    expect(await resolveCredential('other.io', { env: { XDG_RUNTIME_DIR: runtime }, dockerConfigDir: docker })).toMatchObject({ username: 'docker' });

    const file = join(runtime, 'explicit.json');
    writeFileSync(file, JSON.stringify({ auths: { 'r.io': { auth: b64('explicit:pw') } } }));
    expect(await resolveCredential('r.io', { env: { XDG_RUNTIME_DIR: runtime, REGISTRY_AUTH_FILE: file }, dockerConfigDir: docker })).toMatchObject({ username: 'explicit' });
  });
});
