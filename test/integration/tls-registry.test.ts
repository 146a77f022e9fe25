import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../../src/oci/mediatypes.js';
import { digestOf } from '../../src/ref/digest.js';
import { parseRegistryReference } from '../../src/ref/reference.js';
import { openRegistryRepository, type RegistryClientOptions } from '../../src/registry/client.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { failure } from '../helpers/expect-error.js';

/** The real registry serving HTTPS with a CA the suite makes, with and without client-certificate checks. */
const USER = 'tlsuser';
const CANARY = 'canary-tls-pw-93be01f4';

let tls: TestRegistry;
let mtls: TestRegistry;
let work: { path: string; remove(): Promise<void> };

beforeAll(async () => {
  [tls, mtls, work] = await Promise.all([
    startRegistry({ tls: {}, htpasswd: { username: USER, password: CANARY } }),
    startRegistry({ tls: { clientAuth: true } }),
    tempDir('tls-test-'),
  ]);
  writeFileSync(join(work.path, 'app.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tls\n');
});

afterAll(async () => {
  await Promise.all([tls?.stop(), mtls?.stop(), work?.remove()]);
});

const savedEnv = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
afterEach(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

async function roundTrip(host: string, name: string, options: RegistryClientOptions): Promise<void> {
  const r = openRegistryRepository(parseRegistryReference(`oci://${host}/${name}`), { retry: { retries: 0 }, ...options });
  const bytes = Buffer.from(`tls ${name}`);
  const desc = { mediaType: MediaType.OciLayerTarGzip, digest: digestOf(bytes), size: bytes.length };
  await r.pushBlob(desc, bytes);
  expect(await r.fetchBlob(desc)).toEqual(bytes);
}

describe('TLS with a private CA', () => {
  it('refuses the unknown certificate, and works with --ca-file', async () => {
    const creds = `${USER}:${CANARY}`;
    const err = await failure(roundTrip(tls.host, 'tls/refused', { creds }));
    expect(err.code).toBe('TLS_ERROR');
    expect(err.hint).toMatch(/--ca-file/);
    await roundTrip(tls.host, 'tls/ok', { creds, caFile: tls.tls!.caFile });
  });

  it('needs a client certificate where the registry asks for one', async () => {
    const caFile = mtls.tls!.caFile;
    const err = await failure(roundTrip(mtls.host, 'mtls/refused', { caFile, retry: { retries: 0 } }));
    expect(['TLS_ERROR', 'NETWORK_ERROR']).toContain(err.code);
    expect(err.hint).toMatch(/--cert-file/);
    await roundTrip(mtls.host, 'mtls/ok', { caFile, certFile: mtls.tls!.clientCertFile, keyFile: mtls.tls!.clientKeyFile });
  });

  it('goes through HTTPS_PROXY with a CONNECT tunnel, and around it for NO_PROXY hosts', async () => {
    const proxy = await startConnectProxy();
    try {
      process.env.HTTPS_PROXY = proxy.url;
      delete process.env.NO_PROXY;
      await roundTrip(tls.host, 'tls/proxied', { creds: `${USER}:${CANARY}`, caFile: tls.tls!.caFile });
      expect(proxy.tunnels.length).toBeGreaterThan(0);
      expect(new Set(proxy.tunnels)).toEqual(new Set([tls.host]));

      const before = proxy.tunnels.length;
      process.env.NO_PROXY = `example.com, ${tls.host}`;
      await roundTrip(tls.host, 'tls/direct', { creds: `${USER}:${CANARY}`, caFile: tls.tls!.caFile });
      expect(proxy.tunnels.length).toBe(before);
    } finally {
      await proxy.stop();
    }
  });

  it('sends proxy credentials from the proxy URL and says so when the proxy refuses', async () => {
    const auth = `Basic ${Buffer.from('proxyuser:proxy-secret').toString('base64')}`;
    const proxy = await startConnectProxy({ requireAuth: auth });
    try {
      process.env.HTTPS_PROXY = proxy.url.replace('http://', 'http://proxyuser:wrong@');
      const err = await failure(roundTrip(tls.host, 'tls/proxy-refused', { creds: `${USER}:${CANARY}`, caFile: tls.tls!.caFile }));
      expect(err.message).toMatch(/[Pp]roxy/);
      expect(err.message).not.toContain('wrong');
      process.env.HTTPS_PROXY = proxy.url.replace('http://', 'http://proxyuser:proxy-secret@');
      await roundTrip(tls.host, 'tls/proxy-auth', { creds: `${USER}:${CANARY}`, caFile: tls.tls!.caFile });
      expect(proxy.proxyAuthorizations.at(-1)).toBe(auth);
    } finally {
      await proxy.stop();
    }
  });
});

describe('the CLI against the TLS registry', () => {
  const ref = (name: string): string => `oci://${tls.host}/${name}:v1`;

  it('pushes, lists, tags and pulls with --ca-file; SSL_CERT_FILE does the same', async () => {
    const creds = ['--creds', `${USER}:${CANARY}`];
    const push = await runCli(['push', ref('cli/app'), '-f', work.path, '--ca-file', tls.tls!.caFile, ...creds, '--source', 'https://example.com/x', '--revision', 'main@sha1:abc']);
    expect(push.stderr).not.toContain(CANARY);
    expect(push.code, push.stderr).toBe(0);

    const list = await runCli(['list', `oci://${tls.host}/cli/app`, '-o', 'json', ...creds], { env: { SSL_CERT_FILE: tls.tls!.caFile } });
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { tag: string }[]).map((e) => e.tag)).toEqual(['v1']);

    const tag = await runCli(['tag', ref('cli/app'), '--tag', 'latest', '--ca-file', tls.tls!.caFile, ...creds]);
    expect(tag.code, tag.stderr).toBe(0);

    const out = join(work.path, '..', `${work.path.split('/').pop()}-out`);
    const pull = await runCli(['pull', `oci://${tls.host}/cli/app:latest`, '-o', out, ...creds], { env: { SSL_CERT_FILE: tls.tls!.caFile } });
    expect(pull.code, pull.stderr).toBe(0);
    expect(readFileSync(join(out, 'app.yaml'), 'utf8')).toContain('name: tls');
    for (const r of [push, list, tag, pull]) expect(r.stdout + r.stderr).not.toContain(CANARY);
  });

  it('fails without the CA with a TLS hint, and --insecure-registry passes with a warning', async () => {
    const denied = await runCli(['list', `oci://${tls.host}/cli/app`, '--creds', `${USER}:${CANARY}`]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/TLS/);
    expect(denied.stderr).toMatch(/--ca-file/);
    const insecure = await runCli(['list', `oci://${tls.host}/cli/app`, '--creds', `${USER}:${CANARY}`, '--insecure-registry']);
    expect(insecure.code, insecure.stderr).toBe(0);
    expect(insecure.stderr).toMatch(/insecure/i);
    for (const r of [denied, insecure]) expect(r.stdout + r.stderr).not.toContain(CANARY);
  });

  it('presents a client certificate with --cert-file and --key-file', async () => {
    const args = ['push', `oci://${mtls.host}/cli/mtls:v1`, '-f', work.path, '--ca-file', mtls.tls!.caFile, '--source', 'https://example.com/x', '--revision', 'main@sha1:abc'];
    const without = await runCli(args);
    expect(without.code).toBe(3);
    expect(without.stderr).toMatch(/--cert-file/);
    const withCert = await runCli([...args, '--cert-file', mtls.tls!.clientCertFile!, '--key-file', mtls.tls!.clientKeyFile!]);
    expect(withCert.code, withCert.stderr).toBe(0);
  });

  it('goes through HTTPS_PROXY', async () => {
    const proxy = await startConnectProxy();
    try {
      const res = await runCli(['list', `oci://${tls.host}/cli/app`, '--creds', `${USER}:${CANARY}`, '--ca-file', tls.tls!.caFile], { env: { HTTPS_PROXY: proxy.url } });
      expect(res.code, res.stderr).toBe(0);
      expect(proxy.tunnels).toContain(tls.host);
    } finally {
      await proxy.stop();
    }
  });
});
