import type { HandshakeCache } from './auth.js';
import type { ProviderCredentialCache } from './providers/types.js';
import { SchemeProbe } from './scheme-probe.js';

/**
 * What the registry clients of one run learn and reuse: the challenge each host answered with and the tokens it
 * granted (auth.ts), the scheme each host speaks (scheme-probe.ts), and the credentials a cloud provider issued
 * (providers/index.ts). The command's runtime makes one and every repository it opens shares it; two caches share
 * nothing, so two runs in one process (two tests, a registry started on a port another one used) never act on
 * each other's state. A client given none makes its own.
 */
export interface RegistryCache extends HandshakeCache {
  readonly schemes: SchemeProbe;
  readonly providerCredentials: ProviderCredentialCache;
}

export function createRegistryCache(): RegistryCache {
  return { challenges: new Map(), tokens: new Map(), schemes: new SchemeProbe(), providerCredentials: new Map() };
}
