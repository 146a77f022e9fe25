import { removeLogin, type RegistryHost } from '../registry/login.js';

export interface LogoutOptions {
  registry: RegistryHost;
}

export interface LogoutResult {
  registry: string;
  /** False when no credentials were stored for the registry. */
  removed: boolean;
  /** The credential helper or config file they were removed from. */
  where: string;
}

/** `logout`: remove the registry's stored credentials (through its credential helper when one is configured). */
export async function logout({ registry }: LogoutOptions): Promise<LogoutResult> {
  const { removed, where } = await removeLogin(registry);
  return { registry: registry.registry, removed, where };
}
