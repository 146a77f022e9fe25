import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { startProxy, type LoopbackProxy, type ProxyAction, type ProxyRequest } from '../helpers/proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { writeReliabilitySection } from '../helpers/reliability-doc.js';

/**
 * A canary password and a canary token through every registry command, with --verbose and --debug, from each
 * credential source (--creds, a Docker config `auth` entry, a bearer token flow, a signed redirect URL), on success
 * and on refusal (wrong password, with the GitHub Actions error annotation on): everything printed is scanned for
 * the canaries and their encoded forms.
 */

const USER = 'alice';
const PASSWORD = 'canary-Pa55word-9d2c71';
const TOKEN = 'canary-t0ken-4b8e10';
const URL_SECRET = 'canary-sig-77aa31';
const PROVENANCE = ['--source', 'https://example.invalid/app', '--revision', 'main@sha1:1111111111111111111111111111111111111111'];

/** Every form a leak could take. */
const FORMS = [
  PASSWORD, TOKEN, URL_SECRET,
  Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
  Buffer.from(PASSWORD).toString('base64'),
  Buffer.from(`${USER}:${PASSWORD}`).toString('base64url'),
  Buffer.from(TOKEN).toString('base64'),
  encodeURIComponent(`${USER}:${PASSWORD}`),
];

let secured: TestRegistry;
let plain: TestRegistry;
let tokenProxy: LoopbackProxy;
let work: { path: string; remove(): Promise<void> };
let privateKey: string;
let publicKey: string;
let dockerConfig: string;
const scanned = { runs: 0, bytes: 0, leaks: 0 };

/** The commands that talk to a registry, against `host`, in an order where each finds what it needs. */
function commands(host: string, repo: string): Array<[string, string[]]> {
  const ref = `oci://${host}/${repo}`;
  return [
    ['push', ['push', `${ref}:v1`, '-f', join(ROOT, 'fixtures', 'kustomize'), ...PROVENANCE]],
    ['pull', ['pull', `${ref}:v1`, '-o', join(work.path, `${repo.replace(/\//g, '-')}-out-${Math.random().toString(16).slice(2)}`)]],
    ['tag', ['tag', `${ref}:v1`, '--tag', 'v2']],
    ['list', ['list', ref]],
    ['diff', ['diff', `${ref}:v1`, '-f', join(ROOT, 'fixtures', 'kustomize'), '--no-unified']],
    ['inspect', ['inspect', `${ref}:v1`, '--files']],
    ['sign', ['sign', `${ref}:v1`, '--key', privateKey]],
    ['verify', ['verify', `${ref}:v1`, '--key', publicKey]],
    ['copy', ['copy', `${ref}:v1`, `${ref}-copy:v1`]],
  ];
}

function scan(r: CliResult): void {
  const text = r.stdout + r.stderr;
  scanned.runs++;
  scanned.bytes += Buffer.byteLength(text);
  for (const form of FORMS) {
    if (text.includes(form)) scanned.leaks++;
    expect(text, `leaked ${form}`).not.toContain(form);
  }
}

/**
 * In front of the plain registry: a Bearer token service. Without `Bearer TOKEN` a request gets a challenge;
 * /token hands out TOKEN to the right Basic credentials; blob downloads are redirected to a URL carrying a
 * signature in its query, as object stores do.
 */
function tokenService(req: ProxyRequest): ProxyAction | undefined {
  if (req.path.startsWith('/token')) {
    const ok = req.headers.authorization === `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    return ok
      ? { kind: 'respond', status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN, expires_in: 300 }) }
      : { kind: 'respond', status: 401, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}' };
  }
  if (req.headers.authorization !== `Bearer ${TOKEN}`) {
    const scope = /^\/v2\/(.+)\/(manifests|blobs|tags|referrers)\//.exec(req.path)?.[1];
    return {
      kind: 'respond',
      status: 401,
      headers: {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="${tokenProxy.url}/token",service="canary-registry"${scope ? `,scope="repository:${scope}:pull,push"` : ''}`,
      },
      body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
    };
  }
  if (req.method === 'GET' && /\/blobs\/sha256:[0-9a-f]{64}$/.test(req.path)) {
    return { kind: 'respond', status: 307, headers: { location: `${plain.url}${req.path}?X-Amz-Signature=${URL_SECRET}&token=${URL_SECRET}` } };
  }
  return undefined;
}

beforeAll(async () => {
  [secured, plain] = await Promise.all([startRegistry({ htpasswd: { username: USER, password: PASSWORD } }), startRegistry()]);
  tokenProxy = await startProxy({ target: plain.host, onRequest: tokenService });
  work = await tempDir('oci-artifact-secrets-');
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  privateKey = join(work.path, 'cosign.key');
  publicKey = join(work.path, 'cosign.pub');
  await writeFile(privateKey, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(publicKey, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  dockerConfig = join(work.path, 'docker');
  await mkdir(dockerConfig);
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({
    auths: { [secured.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
  }));
});

afterAll(async () => {
  await tokenProxy?.stop();
  await Promise.all([secured?.stop(), plain?.stop()]);
  await work?.remove();
  if (scanned.runs > 0) {
    const line = `Secrets: ${scanned.runs} CLI runs (9 commands × --creds/--verbose, Docker config/--debug, bearer token with a signed redirect/--debug, ` +
      `wrong password/--debug with CI annotations, registry errors echoing the Authorization header, passwords typed into references) ` +
      `scanned, ${scanned.bytes} bytes of output, ${FORMS.length} encoded forms of 3 canaries: ` +
      `secrets leaked: ${scanned.leaks}.`;
    process.stdout.write(`\n${line}\n`);
    if (process.env.RELIABILITY_DOC === '1') await writeReliabilitySection('secrets', line);
  }
});

describe('credentials never appear in output', () => {
  it('--creds user:password with --verbose, through every command', async () => {
    for (const [name, args] of commands(secured.host, 'creds/app')) {
      const r = await runCli(['--verbose', '--creds', `${USER}:${PASSWORD}`, ...args]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stderr, name).toMatch(/→ (GET|HEAD|PUT|POST)/);
      scan(r);
    }
  });

  it('a Docker config auth entry with --debug (headers printed), through every command', async () => {
    for (const [name, args] of commands(secured.host, 'config/app')) {
      const r = await runCli(['--debug', ...args], { env: { DOCKER_CONFIG: dockerConfig } });
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stderr, name).toMatch(/> authorization: Basic REDACTED/i);
      scan(r);
    }
  });

  it('a bearer token flow with signed redirect URLs and --debug, through every command', async () => {
    let printed = '';
    for (const [name, args] of commands(tokenProxy.host, 'token/app')) {
      const r = await runCli(['--debug', '--creds', `${USER}:${PASSWORD}`, ...args]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stderr, name).toMatch(/authorization: Bearer REDACTED/i);
      scan(r);
      printed += r.stderr;
    }
    // The signed URLs were printed, with their secrets masked.
    expect(printed).toMatch(/X-Amz-Signature=REDACTED/);
    expect(tokenProxy.log.some((l) => l.status === 307)).toBe(true);
  });

  it('a wrong password fails with exit 4 and prints none of it, CI annotations included', async () => {
    for (const [name, args] of commands(secured.host, 'creds/app')) {
      if (name === 'push') continue; // pushing needs no prior state; the refusal is the same as for the others
      const r = await runCli(['--debug', '--creds', `${USER}:${PASSWORD}x`, ...args], { env: { GITHUB_ACTIONS: 'true' } });
      expect(r.code, `${name}: ${r.stderr}`).toBe(4);
      expect(r.stderr, name).toMatch(/^::error::/m);
      scan(r);
    }
  });

  it('a registry error that echoes the Authorization header or the password is printed redacted, CI annotation included', async () => {
    // In front of the Basic registry and of the bearer-token one: any authenticated request is refused with an error
    // body that echoes what it was sent, as some registries and proxies do.
    const echo = (req: ProxyRequest): ProxyAction | undefined => {
      const auth = req.headers.authorization;
      if (auth === undefined || req.path.startsWith('/token')) return undefined;
      const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString() : auth.slice(7);
      return {
        kind: 'respond', status: 403, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errors: [{ code: 'DENIED', message: `refused request with Authorization: ${auth} (${decoded}, ${encodeURIComponent(decoded)})` }] }),
      };
    };
    const [basicEcho, bearerEcho] = await Promise.all([
      startProxy({ target: secured.host, onRequest: echo }),
      startProxy({ target: tokenProxy.host, onRequest: echo }),
    ]);
    try {
      for (const [host, actions] of [[basicEcho.host, 'true'], [basicEcho.host, undefined], [bearerEcho.host, 'true']] as const) {
        // --debug also prints the error's stack, which repeats its message.
        const r = await runCli(['--debug', '--creds', `${USER}:${PASSWORD}`, 'list', `oci://${host}/creds/app`], { env: { GITHUB_ACTIONS: actions } });
        expect(r.code, r.stderr).toBe(4);
        expect(r.stderr).toMatch(actions ? /^::error::.*answered 403 DENIED .*Authorization: (Basic|Bearer) REDACTED/m : /✗ .*answered 403 DENIED .*Authorization: Basic REDACTED \(alice:REDACTED, REDACTED\)/);
        scan(r);
      }
    } finally {
      await Promise.all([basicEcho.stop(), bearerEcho.stop()]);
    }
  });

  it('a password typed into a reference is never echoed, not even the part after a / or an @ in it', async () => {
    const [first, second] = [PASSWORD.slice(0, 11), PASSWORD.slice(11)];
    for (const userinfo of [`${USER}:${first}/${second}`, `${USER}:${first}@${second}`, `${USER}:${PASSWORD}`]) {
      for (const args of [['pull', `oci://${userinfo}@${secured.host}/creds/app:v1`, '-o', join(work.path, 'never')], ['copy', `oci://${userinfo}@${secured.host}/creds/app:v1`, `oci://${secured.host}/creds/other:v1`]]) {
        const r = await runCli(args, { env: { GITHUB_ACTIONS: 'true' } });
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/credentials do not belong in a reference/);
        for (const part of [first, second]) expect(r.stdout + r.stderr).not.toContain(part);
        scan(r);
      }
    }
  });

  it('a bare token given as --creds is never printed', async () => {
    const r = await runCli(['--debug', '--creds', TOKEN, 'list', `oci://${secured.host}/creds/app`]);
    expect(r.code).toBe(4);
    scan(r);
  });
});
