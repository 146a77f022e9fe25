import { createSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { OciError } from '../../errors.js';
import type { ProviderToken } from './aws.js';
import { exchangeJson, FORM, formBody, stringField } from './http-json.js';
import type { ProviderContext } from './types.js';

/**
 * Google Artifact Registry / GCR: an OAuth2 access token used as the password of user `oauth2accesstoken`. The
 * token comes from $GOOGLE_APPLICATION_CREDENTIALS (a service-account key: signed JWT exchanged at its token_uri;
 * or an authorized_user file: refresh-token grant), else from the metadata server (GCE, GKE workload identity),
 * whose host $GCE_METADATA_HOST replaces, as in Google's client libraries.
 */
export const GCP_USERNAME = 'oauth2accesstoken';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const METADATA_HOST = 'metadata.google.internal';
const TOKEN_PATH = '/computeMetadata/v1/instance/service-accounts/default/token';

interface KeyFile {
  type?: string;
  client_email?: string;
  private_key?: string;
  private_key_id?: string;
  token_uri?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
}

export async function gcpLogin(ctx: ProviderContext): Promise<ProviderToken> {
  const path = ctx.env.GOOGLE_APPLICATION_CREDENTIALS;
  const answer = path ? await fromKeyFile(path, ctx) : await exchangeJson(ctx, {
    method: 'GET',
    url: `http://${ctx.env.GCE_METADATA_HOST || METADATA_HOST}${TOKEN_PATH}`,
    headers: { 'metadata-flavor': 'Google' },
    what: 'an access token from the GCP metadata server',
  });
  const from = path ? 'the Google token endpoint' : 'the GCP metadata server';
  const token = stringField(answer, 'access_token', from);
  const seconds = typeof answer.expires_in === 'number' ? answer.expires_in : 3600;
  return { username: GCP_USERNAME, password: token, expiresAt: Date.now() + seconds * 1000 };
}

async function fromKeyFile(path: string, ctx: ProviderContext): Promise<Record<string, unknown>> {
  let key: KeyFile;
  try {
    key = JSON.parse(await readFile(path, 'utf8')) as KeyFile;
  } catch (err) {
    throw new OciError('PROVIDER_CONFIG_INVALID', `cannot read GOOGLE_APPLICATION_CREDENTIALS ${path}: ${(err as NodeJS.ErrnoException).code ?? 'not JSON'}`, { kind: 'usage' });
  }
  const tokenUri = key.token_uri || DEFAULT_TOKEN_URI;
  if (key.type === 'authorized_user' && key.refresh_token && key.client_id && key.client_secret) {
    return exchangeJson(ctx, {
      method: 'POST', url: tokenUri, headers: FORM, what: 'a Google access token (refresh token)',
      body: formBody({ grant_type: 'refresh_token', refresh_token: key.refresh_token, client_id: key.client_id, client_secret: key.client_secret }),
    });
  }
  if (key.type !== 'service_account' || !key.client_email || !key.private_key) {
    throw new OciError('PROVIDER_CONFIG_INVALID', `${path} is neither a service-account key nor an authorized_user file`, { kind: 'usage' });
  }
  const assertion = serviceAccountJwt(key as Required<Pick<KeyFile, 'client_email' | 'private_key'>> & KeyFile, tokenUri, Math.floor(Date.now() / 1000));
  return exchangeJson(ctx, {
    method: 'POST', url: tokenUri, headers: FORM, what: `a Google access token for ${key.client_email}`,
    body: formBody({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
  });
}

/** The RS256 JWT a service account presents to the token endpoint (Google's OAuth2 for server-to-server). */
export function serviceAccountJwt(key: { client_email: string; private_key: string; private_key_id?: string }, audience: string, now: number): string {
  const header: Record<string, string> = { alg: 'RS256', typ: 'JWT' };
  if (key.private_key_id) header.kid = key.private_key_id;
  const claims = { iss: key.client_email, scope: SCOPE, aud: audience, iat: now, exp: now + 3600 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  let signature: Buffer;
  try {
    signature = createSign('RSA-SHA256').update(input).sign(key.private_key);
  } catch {
    throw new OciError('PROVIDER_CONFIG_INVALID', `the private key of service account ${key.client_email} cannot sign (not an RSA PEM key)`, { kind: 'usage' });
  }
  return `${input}.${signature.toString('base64url')}`;
}

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
