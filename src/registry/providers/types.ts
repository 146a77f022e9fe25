import type { TlsOptions } from '../http.js';

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
}

export interface ProviderContext extends ProviderHttpOptions {
  env: NodeJS.ProcessEnv;
}
