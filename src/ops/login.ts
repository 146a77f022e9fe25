import { parseRegistryHost, storeLogin, verifyLogin, type RegistryHost } from '../registry/login.js';
import type { OpContext } from './support/context.js';

/** The host names `login` and `logout` take (`ghcr.io`, `https://ghcr.io/`, Docker Hub in any of its names). */
export { parseRegistryHost, type RegistryHost };

export interface LoginOptions {
  registry: RegistryHost;
  username: string;
  password: string;
}

export interface LoginResult {
  registry: string;
  /** Where the credentials went: the credential helper or the config file path. */
  where: string;
}

/** `login`: check the credentials at the registry (as every request answers its challenge), then store them as Docker does. */
export async function login({ registry, username, password }: LoginOptions, ctx: OpContext): Promise<LoginResult> {
  ctx.onStep?.(`checking the credentials at ${registry.registry}`);
  await verifyLogin(registry, { username, password, source: 'login' }, { ...ctx.repositoryOptions, signal: ctx.signal });
  const { where } = await storeLogin(registry, username, password);
  return { registry: registry.registry, where };
}
