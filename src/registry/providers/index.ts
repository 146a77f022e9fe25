import { assertProviderServes } from './hosts.js';
import type { ProviderContext, ProviderCredential, ProviderCredentialCache, ProviderName } from './types.js';

/**
 * `--provider aws|azure|gcp`: the ambient cloud identity exchanged for registry credentials, as Flux does. Each
 * provider module is loaded only when chosen; the result is reused, through the run's `cache`, by every repository
 * of the registry until shortly before it expires.
 */
const MARGIN_MS = 60_000;

export async function providerCredential(
  name: Exclude<ProviderName, 'generic'>, registry: string, ctx: ProviderContext, cache: ProviderCredentialCache,
): Promise<ProviderCredential> {
  assertProviderServes(name, registry); // before any exchange: the cloud identity is for that cloud's registries only
  const key = `${name}\n${registry}`;
  const hit = cache.get(key);
  if (hit !== undefined && hit.expiresAt - MARGIN_MS > Date.now()) return hit.credential;
  let credential: ProviderCredential;
  let expiresAt: number;
  if (name === 'aws') {
    const { ecrLogin } = await import('./aws.js');
    const token = await ecrLogin(registry, ctx);
    credential = { username: token.username, password: token.password, source: '--provider aws (ECR)' };
    expiresAt = token.expiresAt;
  } else if (name === 'gcp') {
    const { gcpLogin } = await import('./gcp.js');
    const token = await gcpLogin(ctx);
    credential = { username: token.username, password: token.password, source: '--provider gcp' };
    expiresAt = token.expiresAt;
  } else {
    const { acrLogin, ACR_REFRESH_USERNAME } = await import('./azure.js');
    const token = await acrLogin(registry, registry, ctx);
    credential = { username: ACR_REFRESH_USERNAME, identityToken: token.refreshToken, source: '--provider azure (ACR)' };
    expiresAt = token.expiresAt;
  }
  cache.set(key, { credential, expiresAt });
  return credential;
}
