import { readFile } from 'node:fs/promises';
import { OciError } from '../../errors.js';
import { exchangeJson, FORM, formBody, stringField } from './http-json.js';
import type { ProviderContext } from './types.js';

/**
 * Azure Container Registry: an Azure AD (Entra ID) access token for Azure Resource Manager is exchanged at the
 * registry's `/oauth2/exchange` for an ACR refresh token, which then serves as the identity token at the registry's
 * token service. The AAD token comes from a service principal secret (AZURE_CLIENT_ID, AZURE_TENANT_ID,
 * AZURE_CLIENT_SECRET), workload identity (AZURE_FEDERATED_TOKEN_FILE), else managed identity (IMDS).
 * $AZURE_AUTHORITY_HOST and $AZURE_POD_IDENTITY_AUTHORITY_HOST replace the AAD and IMDS hosts, as in Azure's SDKs.
 */
const ARM_RESOURCE = 'https://management.azure.com/';
const AUTHORITY = 'https://login.microsoftonline.com';
const IMDS = 'http://169.254.169.254';
/** The user name ACR pairs with a refresh token. */
export const ACR_REFRESH_USERNAME = '00000000-0000-0000-0000-000000000000';

export interface AcrRefreshToken {
  refreshToken: string;
  expiresAt: number;
}

export async function acrLogin(registry: string, endpoint: string, ctx: ProviderContext): Promise<AcrRefreshToken> {
  const aad = await aadToken(ctx);
  const tenant = ctx.env.AZURE_TENANT_ID;
  const fields: Record<string, string> = { grant_type: 'access_token', service: registry, access_token: aad.token };
  if (tenant) fields.tenant = tenant;
  const answer = await exchangeJson(ctx, {
    method: 'POST', url: `https://${endpoint}/oauth2/exchange`, headers: FORM, body: formBody(fields),
    what: `an ACR refresh token for ${registry}`,
  });
  return { refreshToken: stringField(answer, 'refresh_token', `${registry}/oauth2/exchange`), expiresAt: aad.expiresAt };
}

/** An AAD access token for Azure Resource Manager. */
export async function aadToken(ctx: ProviderContext): Promise<{ token: string; expiresAt: number }> {
  const env = ctx.env;
  const authority = (env.AZURE_AUTHORITY_HOST || AUTHORITY).replace(/\/+$/, '');
  let answer: Record<string, unknown>;
  let from: string;
  if (env.AZURE_CLIENT_ID && env.AZURE_TENANT_ID && (env.AZURE_CLIENT_SECRET || env.AZURE_FEDERATED_TOKEN_FILE)) {
    const fields: Record<string, string> = { grant_type: 'client_credentials', client_id: env.AZURE_CLIENT_ID, scope: `${ARM_RESOURCE}.default` };
    if (env.AZURE_CLIENT_SECRET) {
      fields.client_secret = env.AZURE_CLIENT_SECRET;
    } else {
      fields.client_assertion_type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
      fields.client_assertion = await federatedToken(env.AZURE_FEDERATED_TOKEN_FILE!);
    }
    from = 'Azure AD';
    answer = await exchangeJson(ctx, {
      method: 'POST', url: `${authority}/${encodeURIComponent(env.AZURE_TENANT_ID)}/oauth2/v2.0/token`, headers: FORM,
      body: formBody(fields), what: `an Azure AD token for client ${env.AZURE_CLIENT_ID}`,
    });
  } else {
    const url = new URL('/metadata/identity/oauth2/token', env.AZURE_POD_IDENTITY_AUTHORITY_HOST || IMDS);
    url.searchParams.set('api-version', '2018-02-01');
    url.searchParams.set('resource', ARM_RESOURCE);
    if (env.AZURE_CLIENT_ID) url.searchParams.set('client_id', env.AZURE_CLIENT_ID);
    from = 'the Azure managed identity endpoint';
    answer = await exchangeJson(ctx, { method: 'GET', url: url.href, headers: { metadata: 'true' }, what: 'a managed identity token' });
  }
  const token = stringField(answer, 'access_token', from);
  const seconds = Number(answer.expires_in ?? 3600);
  return { token, expiresAt: Date.now() + (Number.isFinite(seconds) && seconds > 0 ? seconds : 3600) * 1000 };
}

async function federatedToken(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    throw new OciError('PROVIDER_CONFIG_INVALID', `cannot read AZURE_FEDERATED_TOKEN_FILE ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { kind: 'usage' });
  }
}
