import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { createCredentialHelper } from '../helpers/credential-helper.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/**
 * login/logout and every credential source, through the CLI, against the real registry with htpasswd and with
 * token authentication. No Docker install is involved: the config file and helpers are the tool's own doing.
 */
const USER = 'loginuser';
const CANARY = 'canary-login-pw-c4d2a8f1e6';

let basic: TestRegistry;
let token: TestRegistry;
let work: { path: string; remove(): Promise<void> };
let content: string;
const results: CliResult[] = [];

beforeAll(async () => {
  [basic, token, work] = await Promise.all([
    startRegistry({ htpasswd: { username: USER, password: CANARY } }),
    startRegistry({ token: { users: { [USER]: CANARY } } }),
    tempDir('login-test-'),
  ]);
  content = join(work.path, 'content');
  mkdirSync(content);
  writeFileSync(join(content, 'app.yaml'), 'kind: ConfigMap\n');
});

afterAll(async () => {
  await Promise.all([basic?.stop(), token?.stop(), work?.remove()]);
  for (const r of results) expect(r.stdout + r.stderr).not.toContain(CANARY);
});

async function cli(args: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
  const result = await runCli(args, { env: { HOME: work.path, XDG_RUNTIME_DIR: undefined, REGISTRY_AUTH_FILE: undefined, ...env }, input });
  results.push(result);
  return result;
}

const META = ['--source', 'https://example.com/repo', '--revision', 'main@sha1:0123456789abcdef'];

function configDir(name: string): string {
  const dir = join(work.path, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('login and logout with config.json', () => {
  it('checks the password, stores it 0600 as base64 auth, serves later commands, and logout removes it', async () => {
    const dir = configDir('docker-basic');
    const env = { DOCKER_CONFIG: dir };
    const login = await cli(['login', basic.host, '-u', USER, '--password-stdin'], env, `${CANARY}\n`);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toMatch(/Login Succeeded/);
    const path = join(dir, 'config.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(stored.auths[basic.host]!.auth, 'base64').toString()).toBe(`${USER}:${CANARY}`);

    const push = await cli(['push', `oci://${basic.host}/login/app:v1`, '-f', content, ...META], env);
    expect(push.code, push.stderr).toBe(0);
    const list = await cli(['list', `oci://${basic.host}/login/app`, '-o', 'json'], env);
    expect(list.code, list.stderr).toBe(0);

    const logout = await cli(['logout', basic.host], env);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stderr).toMatch(/Removed login credentials/);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ auths: {} });
    const again = await cli(['list', `oci://${basic.host}/login/app`], env);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/requires authentication/);
    expect((await cli(['logout', basic.host], env)).stderr).toMatch(/Not logged in/);
  });

  it('refuses a wrong password at once and stores nothing', async () => {
    const dir = configDir('docker-wrong');
    const wrong = await cli(['login', basic.host, '-u', USER, '--password-stdin'], { DOCKER_CONFIG: dir }, `x${CANARY}\n`);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/login to .* failed: the registry rejected the user name or password/);
    expect(() => statSync(join(dir, 'config.json'))).toThrow();
  });

  it('logs in to a token-auth registry and keeps other config fields', async () => {
    const dir = configDir('docker-token');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'other.io': { auth: 'eDp5' } }, psFormat: 'table' }));
    const login = await cli(['login', `https://${token.host}/`, '-u', USER, '--password-stdin'], { DOCKER_CONFIG: dir }, CANARY);
    expect(login.code, login.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.psFormat).toBe('table');
    expect(Object.keys(config.auths as object).sort()).toEqual(['127.0.0.1:' + token.host.split(':')[1], 'other.io'].sort());
    const push = await cli(['push', `oci://${token.host}/login/token:v1`, '-f', content, ...META], { DOCKER_CONFIG: dir });
    expect(push.code, push.stderr).toBe(0);
  });

  it('follows a symlinked config.json: login and logout write the target and keep the link, as the Docker CLI does', async () => {
    const dir = configDir('docker-link');
    const dotfiles = configDir('dotfiles/docker');
    const target = join(dotfiles, 'config.json');
    writeFileSync(target, JSON.stringify({ auths: { 'other.io': { auth: 'eDp5' } }, psFormat: 'table' }));
    // A relative link through a second link, as dotfile managers make them.
    symlinkSync(target, join(dir, 'middle.json'));
    symlinkSync('middle.json', join(dir, 'config.json'));
    const link = join(dir, 'config.json');
    const env = { DOCKER_CONFIG: dir };

    const login = await cli(['login', basic.host, '-u', USER, '--password-stdin'], env, `${CANARY}\n`);
    expect(login.code, login.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('middle.json');
    const stored = JSON.parse(readFileSync(target, 'utf8')) as { auths: Record<string, { auth: string }>; psFormat: string };
    expect(Buffer.from(stored.auths[basic.host]!.auth, 'base64').toString()).toBe(`${USER}:${CANARY}`);
    expect(stored.psFormat).toBe('table');
    expect(statSync(target).mode & 0o777).toBe(0o600);
    // No temp file left next to the link or the target.
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'middle.json']);
    expect(readdirSync(dotfiles)).toEqual(['config.json']);

    const logout = await cli(['logout', basic.host], env);
    expect(logout.code, logout.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(Object.keys((JSON.parse(readFileSync(target, 'utf8')) as { auths: object }).auths)).toEqual(['other.io']);
  });

  it('writes the target of a dangling config.json link, creating it', async () => {
    const dir = configDir('docker-dangling');
    const target = join(work.path, 'dangling-target', 'config.json');
    symlinkSync(target, join(dir, 'config.json'));
    const login = await cli(['login', basic.host, '-u', USER, '--password-stdin'], { DOCKER_CONFIG: dir }, `${CANARY}\n`);
    expect(login.code, login.stderr).toBe(0);
    expect(lstatSync(join(dir, 'config.json')).isSymbolicLink()).toBe(true);
    expect(Object.keys((JSON.parse(readFileSync(target, 'utf8')) as { auths: object }).auths)).toEqual([basic.host]);
  });

  it('explains what to pass when there is no terminal for the user name or password', async () => {
    const noUser = await cli(['login', basic.host], { DOCKER_CONFIG: configDir('docker-noterm') });
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toMatch(/user name is needed.*pass -u/);
    const noPassword = await cli(['login', basic.host, '-u', USER], { DOCKER_CONFIG: configDir('docker-noterm') });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/--password-stdin/);
  });
});

describe('login and logout through a credential helper', () => {
  it('stores with the credsStore helper, reads back through it, and erases on logout', async () => {
    const helper = createCredentialHelper('testpass');
    const dir = configDir('docker-helper');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: 'testpass' }));
    const env = { DOCKER_CONFIG: dir, PATH: helper.path };
    const login = await cli(['login', token.host, '-u', USER, '--password-stdin'], env, CANARY);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain('docker-credential-testpass');
    expect(helper.stored()).toEqual({ [token.host]: { Username: USER, Secret: CANARY } });
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).not.toContain(CANARY);

    const list = await cli(['list', `oci://${token.host}/login/token`], env);
    expect(list.code, list.stderr).toBe(0);
    const logout = await cli(['logout', token.host], env);
    expect(logout.code, logout.stderr).toBe(0);
    expect(helper.stored()).toEqual({});
    expect(helper.log()).toEqual([`store ${token.host}`, `get ${token.host}`, `erase ${token.host}`]);
  });

  it('names a credential helper that is missing', async () => {
    const dir = configDir('docker-missing-helper');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [token.host]: 'not-installed' } }));
    const list = await cli(['list', `oci://${token.host}/login/token`], { DOCKER_CONFIG: dir });
    expect(list.code).toBe(4);
    expect(list.stderr).toMatch(/docker-credential-not-installed is not installed/);
  });
});

describe('every credential source against the token registry', () => {
  const ref = (): string => `oci://${token.host}/sources/app`;
  const b64 = (s: string): string => Buffer.from(s).toString('base64');

  async function pushAndList(env: Record<string, string | undefined>, extra: string[] = [], input?: string): Promise<void> {
    const push = await cli(['push', `${ref()}:v1`, '-f', content, ...META, ...extra], env, input);
    expect(push.code, push.stderr).toBe(0);
    const list = await cli(['list', ref(), '-o', 'json', ...extra], env, input);
    expect(list.code, list.stderr).toBe(0);
  }

  it('--creds user:password', async () => {
    await pushAndList({ DOCKER_CONFIG: configDir('none') }, ['--creds', `${USER}:${CANARY}`]);
  });

  it('--creds user with --password-stdin, and a clear error for user: without a terminal', async () => {
    const push = await cli(['push', `${ref()}:v1`, '-f', content, ...META, '--creds', USER, '--password-stdin'], { DOCKER_CONFIG: configDir('none') }, `${CANARY}\n`);
    expect(push.code, push.stderr).toBe(0);
    const noTerminal = await cli(['list', ref(), '--creds', `${USER}:`], { DOCKER_CONFIG: configDir('none') });
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toMatch(/Password for loginuser is needed and there is no terminal to ask/);
  });

  it('OCI_ARTIFACT_USERNAME / OCI_ARTIFACT_PASSWORD', async () => {
    await pushAndList({ DOCKER_CONFIG: configDir('none'), OCI_ARTIFACT_USERNAME: USER, OCI_ARTIFACT_PASSWORD: CANARY });
  });

  it('config.json auths with username/password fields', async () => {
    const dir = configDir('src-fields');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [`http://${token.host}`]: { username: USER, password: CANARY } } }));
    await pushAndList({ DOCKER_CONFIG: dir });
  });

  it('config.json identitytoken (OAuth2 refresh token)', async () => {
    const dir = configDir('src-identity');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [token.host]: { auth: b64('<token>:'), identitytoken: token.token!.issueRefreshToken(USER) } } }));
    const before = token.token!.requests.length;
    await pushAndList({ DOCKER_CONFIG: dir });
    expect(token.token!.requests.slice(before).every((r) => r.grantType === 'refresh_token' && r.method === 'POST')).toBe(true);
  });

  it('credHelpers for the registry', async () => {
    const helper = createCredentialHelper('perhost', { initial: { [token.host]: { Username: USER, Secret: CANARY } } });
    const dir = configDir('src-credhelpers');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [token.host]: 'perhost' } }));
    await pushAndList({ DOCKER_CONFIG: dir, PATH: helper.path });
  });

  it("Podman's ${XDG_RUNTIME_DIR}/containers/auth.json", async () => {
    const runtime = configDir('xdg');
    mkdirSync(join(runtime, 'containers'), { recursive: true });
    writeFileSync(join(runtime, 'containers', 'auth.json'), JSON.stringify({ auths: { [`${token.host}/sources`]: { auth: b64(`${USER}:${CANARY}`) } } }));
    await pushAndList({ DOCKER_CONFIG: configDir('none'), XDG_RUNTIME_DIR: runtime });
  });

  it('a wrong password fails at once with exit 4 and a clear message', async () => {
    const res = await cli(['list', ref(), '--creds', `${USER}:bad${CANARY}`], { DOCKER_CONFIG: configDir('none') });
    expect(res.code).toBe(4);
    expect(res.stderr).toMatch(/rejected the credentials from --creds/);
  });
});
