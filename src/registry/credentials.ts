import { helperGet, helperProgram, IDENTITY_TOKEN_USERNAME } from './credential-helper.js';
import {
  decodeAuthEntry, dockerConfigPath, findAuthKey, helperFor, podmanAuthPath, readConfigFile, serverUrlFor,
} from './credential-store.js';
import type { ProviderCredentialCache, ProviderHttpOptions, ProviderName } from './providers/types.js';

/**
 * Where a registry credential comes from: --creds, a cloud provider, the environment, the Docker config (credential
 * helpers and `auths`) or Podman's auth file. What is done with it, the challenge and token exchange, is auth.ts.
 */
export interface Credential {
  username?: string;
  password?: string;
  /** A registry bearer token sent as is (`--creds` without a colon, as Flux reads it). */
  token?: string;
  /** OAuth2 refresh token (`identitytoken` in the Docker config). */
  identityToken?: string;
  /** Where it came from, for messages: `--creds`, `OCI_ARTIFACT_USERNAME`, `/home/u/.docker/config.json`. */
  source?: string;
}

export interface CredentialOptions {
  creds?: string;
  /** Directory holding config.json; default $DOCKER_CONFIG, else ~/.docker. */
  dockerConfigDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Repository on the registry, for Podman entries keyed by namespace (`quay.io/org`). */
  repository?: string;
  /** A cloud provider whose ambient identity gives the credential (after --creds, before env and files). */
  provider?: ProviderName;
  /** HTTP settings and signal for the provider's exchanges. */
  providerHttp?: ProviderHttpOptions;
  /** The credentials providers issued in this run (the run's registry cache); default: none reused. */
  providerCredentials?: ProviderCredentialCache;
}

/**
 * Credentials for `registry` (as the user named it), in Docker's order of precedence: --creds, the cloud provider,
 * OCI_ARTIFACT_USERNAME/OCI_ARTIFACT_PASSWORD, the Docker config (credHelpers, credsStore, auths), Podman's auth
 * file. undefined = anonymous.
 */
export async function resolveCredential(registry: string, options: CredentialOptions = {}): Promise<Credential | undefined> {
  const env = options.env ?? process.env;
  if (options.creds !== undefined && options.creds !== '') return parseCreds(options.creds);
  if (options.provider !== undefined && options.provider !== 'generic') {
    // Loaded only when chosen: most runs never talk to a cloud's token service.
    const { providerCredential } = await import('./providers/index.js');
    return providerCredential(options.provider, registry, { ...options.providerHttp, env }, options.providerCredentials ?? new Map());
  }
  if (env.OCI_ARTIFACT_USERNAME && env.OCI_ARTIFACT_PASSWORD !== undefined) {
    return { username: env.OCI_ARTIFACT_USERNAME, password: env.OCI_ARTIFACT_PASSWORD, source: 'OCI_ARTIFACT_USERNAME/OCI_ARTIFACT_PASSWORD' };
  }
  const dockerPath = dockerConfigPath(env, options.dockerConfigDir);
  const fromDocker = await fromConfigFile(dockerPath, registry, options.repository, env, true);
  if (fromDocker !== undefined) return fromDocker;
  const podmanPath = podmanAuthPath(env);
  return podmanPath === undefined ? undefined : fromConfigFile(podmanPath, registry, options.repository, env, false);
}

/** `user:password` (split at the first colon) is Basic; without a colon it is a registry token, as Flux reads it. */
export function parseCreds(creds: string): Credential {
  const colon = creds.indexOf(':');
  return colon < 0
    ? { token: creds, source: '--creds' }
    : { username: creds.slice(0, colon), password: creds.slice(colon + 1), source: '--creds' };
}

async function fromConfigFile(path: string, registry: string, repository: string | undefined, env: NodeJS.ProcessEnv, helpers: boolean): Promise<Credential | undefined> {
  const config = await readConfigFile(path);
  if (config === undefined) return undefined;
  const helper = helpers ? helperFor(config, registry) : undefined;
  if (helper !== undefined) {
    const found = await helperGet(helper, serverUrlFor(registry), env);
    if (found !== undefined) {
      const source = helperProgram(helper);
      return found.Username === IDENTITY_TOKEN_USERNAME
        ? { identityToken: found.Secret, source }
        : { username: found.Username, password: found.Secret, source };
    }
  }
  const key = findAuthKey(config, registry, repository);
  if (key === undefined) return undefined;
  const cred: Credential = { ...decodeAuthEntry(config.auths![key]!, `${registry} in ${path}`), source: path };
  return cred.username !== undefined || cred.identityToken || cred.token ? cred : undefined;
}
