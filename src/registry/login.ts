import { Code, isOciError, OciError, usageError } from '../errors.js';
import { DOCKER_HUB } from '../ref/reference.js';
import { Authenticator } from './auth.js';
import { helperErase, helperProgram, helperStore } from './credential-helper.js';
import {
  dockerConfigPath, findAuthKey, helperFor, readConfigFile, serverUrlFor, writeConfigFile, type DockerConfig,
} from './credential-store.js';
import type { Credential } from './credentials.js';
import { apiRootUrl } from './distribution-urls.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import { responseError } from './registry-errors.js';
import { createRegistryCache, type RegistryCache } from './registry-cache.js';

/**
 * `login` and `logout` without Docker: check credentials against the registry, then keep them where Docker
 * keeps them (the configured credential helper, else base64 `auth` in config.json), or remove them.
 */
export interface RegistryHost {
  /** Name credentials are stored under (`docker.io` for Docker Hub). */
  registry: string;
  /** host[:port] to talk to. */
  endpoint: string;
}

const HUB_NAMES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io']);
const HOST = /^(?:[a-z0-9]([a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** `ghcr.io`, `https://ghcr.io/`, `oci://localhost:5000` -> the registry; Docker Hub in any of its names. */
export function parseRegistryHost(input: string): RegistryHost {
  const host = input.trim().replace(/^(oci|https?):\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  if (!HOST.test(host)) {
    throw usageError('REGISTRY_INVALID', `'${input}' is not a registry host name`, 'write it as host[:port], e.g. ghcr.io or localhost:5000');
  }
  if (HUB_NAMES.has(host)) return { registry: DOCKER_HUB, endpoint: 'registry-1.docker.io' };
  return { registry: host, endpoint: host };
}

/** GET /v2/ with the credential, answering the registry's challenge as every other request does. */
export async function verifyLogin(
  host: RegistryHost, credential: Credential, options: HttpClientOptions & { signal?: AbortSignal; cache?: RegistryCache } = {},
): Promise<void> {
  const cache = options.cache ?? createRegistryCache();
  const http = new HttpClient(host.endpoint, { ...options, schemes: cache.schemes });
  const auth = new Authenticator(http, async () => credential, cache);
  const what = 'the login check (GET /v2/)';
  let res;
  try {
    res = await auth.send({ method: 'GET', url: apiRootUrl(), what, signal: options.signal }, []);
  } catch (err) {
    throw loginRefused(host, err);
  }
  if (res.status !== 200) throw loginRefused(host, await responseError(res, host.registry, what));
  res.body.resume();
}

export interface StoreOptions {
  env?: NodeJS.ProcessEnv;
  dockerConfigDir?: string;
}

/** Where credentials went: a helper program or the config file path. */
export interface StoreResult {
  where: string;
}

export async function storeLogin(host: RegistryHost, username: string, password: string, options: StoreOptions = {}): Promise<StoreResult> {
  const env = options.env ?? process.env;
  const path = dockerConfigPath(env, options.dockerConfigDir);
  const config: DockerConfig = (await readConfigFile(path)) ?? {};
  const helper = helperFor(config, host.registry);
  if (helper !== undefined) {
    await helperStore(helper, serverUrlFor(host.registry), { Username: username, Secret: password }, env);
    return { where: helperProgram(helper) };
  }
  const key = findAuthKey(config, host.registry) ?? serverUrlFor(host.registry);
  config.auths = { ...config.auths, [key]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  await writeConfigFile(path, config);
  return { where: path };
}

/** Remove the registry's credentials from the helper and from `auths`; `removed` is false when there were none. */
export async function removeLogin(host: RegistryHost, options: StoreOptions = {}): Promise<StoreResult & { removed: boolean }> {
  const env = options.env ?? process.env;
  const path = dockerConfigPath(env, options.dockerConfigDir);
  const config = await readConfigFile(path);
  if (config === undefined) return { where: path, removed: false };
  const helper = helperFor(config, host.registry);
  let removed = false;
  if (helper !== undefined) removed = await helperErase(helper, serverUrlFor(host.registry), env);
  let changed = false;
  for (let key = findAuthKey(config, host.registry); key !== undefined; key = findAuthKey(config, host.registry)) {
    delete config.auths![key];
    changed = true;
  }
  if (changed) await writeConfigFile(path, config);
  return { where: helper !== undefined ? helperProgram(helper) : path, removed: removed || changed };
}

function loginRefused(host: RegistryHost, err: unknown): unknown {
  if (isOciError(err, Code.Unauthorized, Code.Denied)) {
    return new OciError('LOGIN_FAILED', `login to ${host.registry} failed: the registry rejected the user name or password`, {
      kind: 'auth', cause: err, hint: 'check the user name and password (or token), then run login again',
    });
  }
  return err;
}
