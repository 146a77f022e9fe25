/**
 * Where a keyless signature's OIDC identity comes from: a token given explicitly (--identity-token), GitLab CI's
 * SIGSTORE_ID_TOKEN (an `id_tokens` entry with `aud: sigstore`), or GitHub Actions' token-request endpoint
 * (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN, asked for audience `sigstore` by sigstore-js's CI provider). Decided
 * before anything is pushed, so a job without an identity fails in one line with nothing written.
 */
import { OciError, usageError } from '../errors.js';
import { isLoopback } from '../ref/host.js';
import { rememberSecret } from '../secrets.js';

export type IdentitySource =
  | { kind: '--identity-token' | 'SIGSTORE_ID_TOKEN'; token: string }
  /** The token is asked from the runner when signing. */
  | { kind: 'GitHub Actions' };

export const NO_IDENTITY_MESSAGE = 'not in a CI with OIDC: pass --identity-token or --key';

/** The identity to sign with, or the usage error saying there is none. Registers the secrets it sees. */
export function identitySource(explicitToken: string | undefined, env: NodeJS.ProcessEnv = process.env): IdentitySource {
  if (explicitToken !== undefined) {
    const token = explicitToken.trim();
    if (token === '') throw usageError('IDENTITY_TOKEN_INVALID', 'the identity token is empty');
    rememberSecret(token);
    return { kind: '--identity-token', token };
  }
  const gitlab = env.SIGSTORE_ID_TOKEN?.trim();
  if (gitlab) {
    rememberSecret(gitlab);
    return { kind: 'SIGSTORE_ID_TOKEN', token: gitlab };
  }
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    rememberSecret(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
    return { kind: 'GitHub Actions' };
  }
  throw new OciError('IDENTITY_TOKEN_MISSING', NO_IDENTITY_MESSAGE, {
    kind: 'usage',
    hint: 'in GitHub Actions grant the job `permissions: id-token: write`; in GitLab CI add SIGSTORE_ID_TOKEN to id_tokens with aud: sigstore',
  });
}

/**
 * A Fulcio or Rekor base URL, without a trailing slash (sigstore-js appends `/api/v...`). HTTPS only: the identity
 * token travels to Fulcio in the request body, and Rekor's answers decide what is published; plain HTTP only to a
 * loopback instance (a test or a local Sigstore), where it never leaves the machine.
 */
export function sigstoreServiceUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError('FLAG_INVALID', `${flag} '${value}' is not a URL`, `e.g. ${flag} https://fulcio.example.com`);
  }
  if (url.protocol === 'http:' && !isLoopback(url.host)) {
    throw usageError('FLAG_INVALID', `${flag} '${value}' is plain HTTP`, 'use its https:// URL (plain http:// is accepted only for a loopback address)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw usageError('FLAG_INVALID', `${flag} '${value}' is not an https URL`);
  return value.replace(/\/+$/, '');
}

/**
 * Check a token before it goes to Fulcio: it must be a JWT, and when --oidc-issuer is given, issued by it. Its
 * claims are read unverified: Fulcio verifies the token, and accepts only the issuers it is configured to trust.
 * Without --oidc-issuer no list of issuers is checked here: the one list that counts is the Fulcio's own (a
 * private Fulcio trusts issuers no built-in list would know), and the issuer is written into the certificate,
 * where `verify --certificate-oidc-issuer` pins it.
 */
export function checkIdentityToken(token: string, source: IdentitySource['kind'], oidcIssuer: string | undefined): string {
  rememberSecret(token);
  let iss: unknown;
  try {
    iss = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
  } catch {
    throw usageError('IDENTITY_TOKEN_INVALID', `the identity token from ${source} is not a JWT`);
  }
  if (oidcIssuer !== undefined && iss !== oidcIssuer) {
    throw usageError('IDENTITY_TOKEN_ISSUER', `the identity token from ${source} was issued by ${String(iss)}, not ${oidcIssuer} (--oidc-issuer)`);
  }
  return token;
}
