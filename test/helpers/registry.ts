import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { stringify } from 'yaml';
import { createCa, issueLeaf, type KeyType } from './pki.js';
import { startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.js';

/**
 * Starts the real CNCF Distribution registry on a free loopback port with its own temp storage, for integration
 * tests. Config generation is one function over a config object, so TLS or token-auth variants only add fields.
 */
export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** `http://127.0.0.1:PORT`, or `https://…` with `tls`. */
  url: string;
  /** With `tls`: the CA that issued the server certificate, and with `clientAuth` a client certificate it accepts. */
  tls?: { caFile: string; clientCertFile?: string; clientKeyFile?: string };
  /** With `token`: the token service the registry sends clients to. */
  token?: TokenServer;
  /** Root of the filesystem storage ('' when an external registry is reused). */
  storageDir: string;
  /** The registry's process id (absent for an external registry), for the benchmarks' CPU accounting. */
  pid?: number;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  htpasswd?: { username: string; password: string };
  /** Serve HTTPS with a certificate from a CA made for this registry; `clientAuth` requires client certificates. */
  tls?: { clientAuth?: boolean };
  /** Token authentication (auth.token) against a token server started with the registry. */
  token?: TokenServerOptions & { keyType?: KeyType };
  /** The loopback port to listen on (default: a free one), e.g. the port of a registry stopped before. */
  port?: number;
}

/** What a registry config is generated from; new variants (tls, token) extend this. */
export interface RegistryConfig {
  port: number;
  storageDir: string;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** Path of an htpasswd file (bcrypt). */
  htpasswdFile?: string;
  /** Server certificate and key; `clientCas` makes the registry require client certificates from those CAs. */
  tls?: { certificate: string; key: string; clientCas?: string[] };
  /** auth.token settings: where clients get tokens and which certificates sign them. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

const REGISTRY_BIN = (): string => process.env.OCI_ARTIFACT_REGISTRY_BIN ?? '/usr/bin/docker-registry';
const READY_TIMEOUT_MS = 15_000;

/** The registry's config.yml as a YAML string. */
export function registryConfigYaml(config: RegistryConfig): string {
  const doc: Record<string, unknown> = {
    version: 0.1,
    log: { level: config.logLevel ?? 'warn', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: config.storageDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${config.port}`, secret: 'oci-artifact-test-secret' },
  };
  if (config.htpasswdFile !== undefined) {
    doc.auth = { htpasswd: { realm: 'oci-artifact-test', path: config.htpasswdFile } };
  }
  if (config.token !== undefined) {
    const { realm, service, issuer, rootCertBundle } = config.token;
    doc.auth = { token: { realm, service, issuer, rootcertbundle: rootCertBundle } };
  }
  if (config.tls !== undefined) {
    const tls: Record<string, unknown> = { certificate: config.tls.certificate, key: config.tls.key };
    if (config.tls.clientCas !== undefined) tls.clientcas = config.tls.clientCas;
    (doc.http as Record<string, unknown>).tls = tls;
  }
  return stringify(doc);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const external = process.env.OCI_ARTIFACT_TEST_REGISTRY;
  if (external && options.htpasswd === undefined && options.tls === undefined && options.token === undefined && options.port === undefined) {
    return { host: external, url: `http://${external}`, storageDir: '', stop: async () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'oci-artifact-registry-'));
  const config: RegistryConfig = { port: options.port ?? await freePort(), storageDir: join(dir, 'storage') };
  if (options.htpasswd !== undefined) {
    config.htpasswdFile = join(dir, 'htpasswd');
    const line = execFileSync('htpasswd', ['-Bbn', options.htpasswd.username, options.htpasswd.password], { encoding: 'utf8' });
    writeFileSync(config.htpasswdFile, line);
  }
  let tls: TestRegistry['tls'];
  if (options.tls !== undefined) {
    const ca = createCa(dir, 'registry test CA');
    const server = issueLeaf(ca, 'registry', 'server');
    config.tls = { certificate: server.certFile, key: server.keyFile };
    tls = { caFile: ca.certFile };
    if (options.tls.clientAuth) {
      const clientCa = createCa(dir, 'client test CA');
      const client = issueLeaf(clientCa, 'client', 'client');
      config.tls.clientCas = [clientCa.certFile];
      tls.clientCertFile = client.certFile;
      tls.clientKeyFile = client.keyFile;
    }
  }
  let token: TokenServer | undefined;
  if (options.token !== undefined) {
    const ca = createCa(dir, 'token signing CA');
    const signer = issueLeaf(ca, 'token signer', 'signer', options.token.keyType ?? 'rsa');
    token = await startTokenServer(signer, options.token);
    config.token = { realm: token.realm, service: token.service, issuer: token.issuer, rootCertBundle: ca.certFile };
  }
  try {
    const registry = await launch(dir, config, tls);
    const stopRegistry = registry.stop;
    return { ...registry, token, stop: async () => { await stopRegistry(); await token?.stop(); } };
  } catch (err) {
    await token?.stop();
    throw err;
  }
}

/** Spawn the registry on `config` in `dir` and wait until it answers; the logs go to `dir`/registry.log. */
export async function launch(dir: string, config: RegistryConfig, tls?: TestRegistry['tls']): Promise<TestRegistry> {
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, registryConfigYaml(config));
  const logFd = openSync(join(dir, 'registry.log'), 'a');
  const child = spawn(REGISTRY_BIN(), ['serve', configPath], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const host = `127.0.0.1:${config.port}`;
  const stop = async (): Promise<void> => {
    await terminate(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `${tls ? 'https' : 'http'}://${host}`;
  try {
    await waitUntilReady(url, child, tls);
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, url, storageDir: config.storageDir, stop, pid: child.pid, ...(tls ? { tls } : {}) };
}

async function waitUntilReady(url: string, child: ChildProcess, tls: TestRegistry['tls']): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the registry exited with code ${child.exitCode} before answering on ${url}`);
    if (await answers(`${url}/v2/`, tls)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the registry did not answer on ${url} within ${READY_TIMEOUT_MS} ms`);
}

function answers(url: string, tls: TestRegistry['tls']): Promise<boolean> {
  return new Promise((resolve) => {
    const secure = tls === undefined ? {} : {
      ca: readFileSync(tls.caFile),
      ...(tls.clientCertFile ? { cert: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile!) } : {}),
    };
    const req = (tls ? httpsRequest : request)(url, { timeout: 1000, ...secure }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
