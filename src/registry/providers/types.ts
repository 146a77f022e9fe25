import type { TlsOptions } from '../connection-pool.js';
import type { SchemeProbe } from '../scheme-probe.js';

/** Flux's `--provider` values: where registry credentials come from. */
export const PROVIDER_NAMES = ['generic', 'aws', 'azure', 'gcp'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export function isProviderName(value: unknown): value is ProviderName {
  return typeof value === 'string' && (PROVIDER_NAMES as readonly string[]).includes(value);
}

/** HTTP settings the exchanges with the cloud's endpoints use (the registry's TLS options, the command's signal). */
export interface ProviderHttpOptions extends TlsOptions {
  signal?: AbortSignal;
  userAgent?: string;
  /** The schemes learned in this run (the run's registry cache), for cloud endpoints reached over loopback. */
  schemes?: SchemeProbe;
}

export interface ProviderContext extends ProviderHttpOptions {
  env: NodeJS.ProcessEnv;
}

/** Registry credentials a provider issued: a user name with a password, or (ACR) a refresh token. */
export interface ProviderCredential {
  username: string;
  password?: string;
  identityToken?: string;
  /** For messages: `--provider aws (ECR)`. */
  source: string;
}

/** Credentials issued in one run (the run's registry cache), per provider and registry, until shortly before they expire. */
export type ProviderCredentialCache = Map<string, { credential: ProviderCredential; expiresAt: number }>;
