import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveCredential } from '../../src/registry/auth.js';
import { helperGet, helperMessage } from '../../src/registry/credential-helper.js';
import { findAuthKey, readConfigFile, writeConfigFile } from '../../src/registry/credential-store.js';
import { createCredentialHelper } from '../helpers/credential-helper.js';

const CANARY = 'canary-Pw-7f3a91c2e5b84d60';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function dockerConfig(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'docker-config-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

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

  it('returns undefined from get when the helper says it holds nothing', async () => {
    const helper = createCredentialHelper('none');
    expect(await helperGet('none', 'r.io', { PATH: helper.path })).toBeUndefined();
  });

  it('refuses a helper name that could be a path', async () => {
    await expect(helperGet('../evil', 'r.io', {})).rejects.toMatchObject({ code: 'CREDENTIAL_HELPER_INVALID' });
  });
});

describe('helperMessage', () => {
  it('keeps the first line, replaces known secrets and token-like runs, and caps the length', () => {
    expect(helperMessage(`\n  bad ${CANARY} here\nsecond line`, [CANARY])).toBe('bad REDACTED here');
    expect(helperMessage('ghp_abcdefghijklmnopqrstuvwxyz0123456789 rejected')).toBe('REDACTED rejected');
    expect(helperMessage('error: the keychain service org.freedesktop.secrets is down')).toContain('org.freedesktop.secrets');
    expect(helperMessage('x'.repeat(500)).length).toBeLessThanOrEqual(201);
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

  it('picks the most specific namespace entry for the repository', async () => {
    const config = { auths: { 'quay.io': {}, 'quay.io/org': {}, 'quay.io/org/app': {}, 'quay.io/other': {} } };
    expect(findAuthKey(config, 'quay.io', 'org/app')).toBe('quay.io/org/app');
    expect(findAuthKey(config, 'quay.io', 'org/app2')).toBe('quay.io/org');
    expect(findAuthKey(config, 'quay.io', 'third')).toBe('quay.io');
    expect(findAuthKey({ auths: { 'https://index.docker.io/v1/': {} } }, 'docker.io', 'library/x')).toBe('https://index.docker.io/v1/');
    // Host names compare without case, as DNS does.
    expect(findAuthKey({ auths: { 'LOCALHOST:5000': {} } }, 'localhost:5000', 'app')).toBe('LOCALHOST:5000');
    expect(findAuthKey({ auths: { 'https://Registry.Example/v1/': {} } }, 'registry.example', 'app')).toBe('https://Registry.Example/v1/');
  });
});

describe('writeConfigFile', () => {
  it('writes atomically with mode 0600, keeping other fields', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'new-dir');
    const path = join(dir, 'config.json');
    await writeConfigFile(path, { auths: { 'r.io': { auth: b64('u:p') } }, proxies: { default: {} } });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(await readConfigFile(path)).toEqual({ auths: { 'r.io': { auth: b64('u:p') } }, proxies: { default: {} } });
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
  });

  it('reports a missing file as undefined and a broken one as a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    expect(await readConfigFile(join(dir, 'none.json'))).toBeUndefined();
    writeFileSync(join(dir, 'bad.json'), '[1,2]');
    await expect(readConfigFile(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'DOCKER_CONFIG_INVALID', kind: 'usage' });
  });
});
