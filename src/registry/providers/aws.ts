import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { OciError } from '../../errors.js';
import { assertProviderServes, parseEcrHost } from './hosts.js';
import { exchangeJson } from './http-json.js';
import { signV4, type AwsCredentials } from './sigv4.js';
import type { ProviderContext } from './types.js';

/**
 * Amazon ECR: `GetAuthorizationToken` (JSON 1.1 protocol, signed with SigV4) gives a base64 `AWS:<password>`
 * valid for 12 hours. Credentials come from the standard environment variables, else the shared credentials file
 * (profile $AWS_PROFILE). $AWS_ENDPOINT_URL_ECR / $AWS_ENDPOINT_URL replace the ECR API endpoint, as in the AWS SDKs;
 * the registry itself must still be an ECR host (hosts.ts).
 */
const TARGET = 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken';

export interface ProviderToken {
  username: string;
  password: string;
  /** ms since epoch. */
  expiresAt: number;
}

export async function ecrLogin(registry: string, ctx: ProviderContext): Promise<ProviderToken> {
  const env = ctx.env;
  const endpointOverride = env.AWS_ENDPOINT_URL_ECR || env.AWS_ENDPOINT_URL;
  assertProviderServes('aws', registry);
  const { account, fips, region, domain } = parseEcrHost(registry)!;
  const credentials = await awsCredentials(env);
  const url = new URL(endpointOverride || `https://api.ecr${fips}.${region}.${domain}/`);
  const body = Buffer.from(JSON.stringify({ registryIds: [account] }));
  const signed = signV4({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': TARGET },
    body,
    region,
    service: 'ecr',
    date: new Date(),
  }, credentials);
  const answer = await exchangeJson(ctx, { method: 'POST', url: url.href, headers: signed.headers, body, what: 'an ECR authorization token' });
  const data = Array.isArray(answer.authorizationData) ? (answer.authorizationData[0] as Record<string, unknown> | undefined) : undefined;
  const token = typeof data?.authorizationToken === 'string' ? Buffer.from(data.authorizationToken, 'base64').toString('utf8') : '';
  const colon = token.indexOf(':');
  if (colon <= 0) {
    throw new OciError('PROVIDER_AUTH_FAILED', `${url.host} sent no usable ECR authorization token`, { kind: 'auth' });
  }
  const expires = typeof data?.expiresAt === 'number' ? data.expiresAt * 1000 : Date.now() + 60 * 60 * 1000;
  return { username: token.slice(0, colon), password: token.slice(colon + 1), expiresAt: expires };
}

/** Access keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], else the shared credentials file. */
export async function awsCredentials(env: NodeJS.ProcessEnv): Promise<AwsCredentials> {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined };
  }
  const path = env.AWS_SHARED_CREDENTIALS_FILE || join(env.HOME || homedir(), '.aws', 'credentials');
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    text = undefined;
  }
  const section = text === undefined ? undefined : parseIni(text)[profile];
  if (section?.aws_access_key_id && section.aws_secret_access_key) {
    return { accessKeyId: section.aws_access_key_id, secretAccessKey: section.aws_secret_access_key, sessionToken: section.aws_session_token || undefined };
  }
  throw new OciError('PROVIDER_CREDENTIALS_MISSING', `no AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set and ${path} has no profile '${profile}' with keys`, {
    kind: 'auth',
    hint: 'set the AWS environment variables or configure the shared credentials file',
  });
}

/** The INI dialect of ~/.aws/credentials: `[section]`, `key = value`, `#`/`;` comments. */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      current = out[section[1]!] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && current !== undefined) current[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  return out;
}
