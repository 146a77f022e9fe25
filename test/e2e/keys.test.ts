import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, publicKeyPem } from '../../fixtures/signing/generate.js';
import { decryptCosignKey } from '../../src/signing/cosign-key.js';
import { BIN, runCli } from '../helpers/cli.js';
import { KUSTOMIZE_FIXTURE, PROVENANCE, useWorkDir } from '../helpers/fixtures.js';

/** Keys a user makes (generate-key-pair, openssl) and uses with sign and verify, through the built CLI. */
const work = useWorkDir('oci-artifact-keys-');
let artifact: string;

beforeAll(async () => {
  artifact = `oci-layout://${join(work.path, 'store')}:v1`;
  expect((await runCli(['push', artifact, '-f', KUSTOMIZE_FIXTURE, ...PROVENANCE])).code).toBe(0);
});

async function dir(name: string): Promise<string> {
  const path = join(work.path, name);
  await mkdir(path, { recursive: true });
  return path;
}

/** Exit 2 with one ✗ line matching `line`. */
function expectRefused(r: { code: number | null; stderr: string }, line: RegExp) {
  expect(r.stderr.split('\n').filter((l) => l.startsWith('✗'))).toEqual([expect.stringMatching(line)]);
  expect(r.code).toBe(2);
}

describe('generate-key-pair', () => {
  it('writes an encrypted cosign key and its public key; the pair signs and verifies', async () => {
    const cwd = await dir('pair');
    const r = await runCli(['generate-key-pair'], { cwd, env: { COSIGN_PASSWORD: 'pw' } });
    expect(r.stderr).not.toContain('✗');
    expect(r.code).toBe(0);
    expect((await readdir(cwd)).sort()).toEqual(['cosign.key', 'cosign.pub']);
    expect(statSync(join(cwd, 'cosign.key')).mode & 0o077).toBe(0);

    // The existing reader decrypts it, and the public key belongs to it.
    const pem = await readFile(join(cwd, 'cosign.key'), 'utf8');
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const body = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64');
    const privateKey = createPrivateKey({ key: decryptCosignKey(body, 'pw'), format: 'der', type: 'pkcs8' });
    expect(privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const pub = await readFile(join(cwd, 'cosign.pub'), 'utf8');
    expect(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' })).toBe(pub);
    expect(() => decryptCosignKey(body, 'wrong')).toThrow(/wrong password/);

    const signed = await runCli(['sign', artifact, '--key', 'cosign.key'], { cwd, env: { COSIGN_PASSWORD: 'pw' } });
    expect(signed.stderr).not.toContain('✗');
    expect(signed.code).toBe(0);
    const verified = await runCli(['verify', artifact, '--key', 'cosign.pub'], { cwd });
    expect(verified.code).toBe(0);
    expect(verified.stderr).toMatch(/✔ 1 of \d+ signatures? verified/);
  });

  it('refuses to overwrite either file unless --force, and then leaves both as they were', async () => {
    const cwd = await dir('existing');
    expect((await runCli(['generate-key-pair'], { cwd, env: { COSIGN_PASSWORD: 'pw' } })).code).toBe(0);
    const before = { key: await readFile(join(cwd, 'cosign.key'), 'utf8'), pub: await readFile(join(cwd, 'cosign.pub'), 'utf8') };
    expectRefused(await runCli(['generate-key-pair'], { cwd, env: { COSIGN_PASSWORD: 'pw' } }), /cosign\.key already exists; pass --force/);
    expect(await readFile(join(cwd, 'cosign.key'), 'utf8')).toBe(before.key);
    expect(await readFile(join(cwd, 'cosign.pub'), 'utf8')).toBe(before.pub);
    expect((await readdir(cwd)).sort()).toEqual(['cosign.key', 'cosign.pub']);

    // Only the .pub exists: the .key is not left behind either.
    const half = await dir('half');
    await writeFile(join(half, 'release.pub'), 'mine\n');
    expectRefused(await runCli(['generate-key-pair', '--output-key-prefix', 'release'], { cwd: half, env: { COSIGN_PASSWORD: 'pw' } }), /release\.pub already exists/);
    expect(await readdir(half)).toEqual(['release.pub']);

    const forced = await runCli(['generate-key-pair', '--force'], { cwd, env: { COSIGN_PASSWORD: 'pw' } });
    expect(forced.code).toBe(0);
    expect(await readFile(join(cwd, 'cosign.pub'), 'utf8')).not.toBe(before.pub);
    expect((await readdir(cwd)).sort()).toEqual(['cosign.key', 'cosign.pub']);
  });

  it('an empty COSIGN_PASSWORD makes a key without a password; no password and no terminal is refused', async () => {
    const cwd = await dir('empty');
    expect((await runCli(['generate-key-pair'], { cwd, env: { COSIGN_PASSWORD: '' } })).code).toBe(0);
    expect((await runCli(['sign', artifact, '--key', 'cosign.key'], { cwd, env: { COSIGN_PASSWORD: '' } })).code).toBe(0);

    const none = await dir('none');
    expectRefused(await runCli(['generate-key-pair'], { cwd: none, env: { COSIGN_PASSWORD: undefined } }), /no terminal to ask; set COSIGN_PASSWORD/);
    expect(await readdir(none)).toEqual([]);
  });
});

describe('generate-key-pair at a terminal', () => {
  const socket = `oci-artifact-keys-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args]);
  afterAll(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  });

  it('asks for the password twice without echo (tmux), and the key opens with it', async () => {
    const cwd = await dir('tty');
    const log = join(cwd, '..', 'tty.log');
    const done = join(cwd, '..', 'tty.done');
    tmux('new-session', '-d', '-s', 'keys', '-x', '120', '-y', '30', '-c', cwd, 'bash', '--norc', '--noprofile');
    tmux('pipe-pane', '-t', 'keys', '-o', `cat >> ${log}`);
    tmux('send-keys', '-t', 'keys', `unset COSIGN_PASSWORD CI; node ${BIN} generate-key-pair; echo EXIT=$? > ${done}`, 'Enter');
    const screen = async () => (existsSync(log) ? readFile(log, 'utf8') : '');
    const waitFor = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 30_000;
      while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    };
    for (const prompt of ['Enter password for private key: ', 'Enter password for private key again: ']) {
      await waitFor(async () => (await screen()).includes(prompt));
      tmux('send-keys', '-t', 'keys', 't0p-secret', 'Enter');
    }
    await waitFor(async () => existsSync(done));
    expect((await readFile(done, 'utf8')).trim()).toBe('EXIT=0');
    expect(await screen()).not.toContain('t0p-secret');
    const signed = await runCli(['sign', artifact, '--key', 'cosign.key'], { cwd, env: { COSIGN_PASSWORD: 't0p-secret' } });
    expect(signed.code).toBe(0);
  });
});

describe('sign --key with an OpenSSL-encrypted key', () => {
  let keys: string;
  let pub: string;
  const variants: Record<string, string> = {};

  beforeAll(async () => {
    keys = await dir('openssl');
    const plain = generateKey(keys, 'plain', 'ec');
    pub = publicKeyPem(keys, plain, 'plain');
    const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    variants.pkcs8 = join(keys, 'pkcs8.key');
    openssl(['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', plain, '-passout', 'pass:secret', '-out', variants.pkcs8]);
    variants.genpkey = join(keys, 'genpkey.key');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes256', '-pass', 'pass:secret', '-out', variants.genpkey]);
    variants.traditional = join(keys, 'traditional.key');
    openssl(['ec', '-in', plain, '-aes256', '-passout', 'pass:secret', '-out', variants.traditional]);
  });

  it('signs with the password from COSIGN_PASSWORD (openssl pkcs8 -topk8 -v2 aes-256-cbc), and the signature verifies', async () => {
    expect(await readFile(variants.pkcs8!, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const r = await runCli(['sign', artifact, '--key', variants.pkcs8!], { env: { COSIGN_PASSWORD: 'secret' } });
    expect(r.stderr).not.toContain('✗');
    expect(r.code).toBe(0);
    expect((await runCli(['verify', artifact, '--key', pub])).code).toBe(0);
  });

  it('also made with openssl genpkey -aes256, and in the traditional Proc-Type form', async () => {
    for (const key of [variants.genpkey!, variants.traditional!]) {
      const r = await runCli(['sign', artifact, '--key', key], { env: { COSIGN_PASSWORD: 'secret' } });
      expect(r.code, `${key}: ${r.stderr}`).toBe(0);
    }
  });

  it('a wrong or missing password is one line, exit 2', async () => {
    expectRefused(await runCli(['sign', artifact, '--key', variants.pkcs8!], { env: { COSIGN_PASSWORD: 'nope' } }), /cannot decrypt .*pkcs8\.key: wrong password/);
    expectRefused(await runCli(['sign', artifact, '--key', variants.pkcs8!], { env: { COSIGN_PASSWORD: undefined } }), /no terminal to ask; set COSIGN_PASSWORD/);
  });
});

describe('the wrong kind of key file', () => {
  it('verify --key given a private key or no key at all says so in one line, exit 2', async () => {
    const keys = await dir('wrong');
    const plain = generateKey(keys, 'plain', 'ec');
    const notAKey = join(keys, 'notes.txt');
    await writeFile(notAKey, 'just some text\n');
    expectRefused(await runCli(['verify', artifact, '--key', plain]), /plain\.key is a private key \(PRIVATE KEY\), not a public key/);
    const cwd = await dir('pair');
    expectRefused(await runCli(['verify', artifact, '--key', 'cosign.key'], { cwd }), /cosign\.key is a private key \(ENCRYPTED SIGSTORE PRIVATE KEY\)/);
    expectRefused(await runCli(['verify', artifact, '--key', notAKey]), /notes\.txt is not a key \(no PEM block in it\)/);
  });

  it('sign --key given a public key says so', async () => {
    expectRefused(await runCli(['sign', artifact, '--key', join(work.path, 'pair', 'cosign.pub')]), /cosign\.pub is a public key, not a private key/);
  });
});
