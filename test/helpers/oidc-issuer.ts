import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, sendJson, stopServer } from './sigstore-http.js';

/**
 * A stand-in for GitHub Actions' OIDC issuer (token.actions.githubusercontent.com) and the runner's token-request
 * endpoint, on a loopback port. Discovery at /.well-known/openid-configuration, the JWKS at /.well-known/jwks,
 * RS256 ID tokens with the claims GitHub puts in them, and GET /_apis/token?audience=AUD answering
 * {"value": JWT} to a request carrying `Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>`, as the runner's
 * endpoint does. The environment a job sees is `actionsEnv()`.
 */
export interface OidcIssuer {
  /** The issuer URL (`iss`), also the base of the discovery document. */
  url: string;
  /** The `ACTIONS_ID_TOKEN_REQUEST_URL` / `_TOKEN` pair a GitHub Actions job is given. */
  actionsEnv(): { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** A signed ID token for the workflow run, with claims overridden or added. */
  issueToken(overrides?: Partial<GithubClaims> & Record<string, unknown>): string;
  /** The workflow identity the certificate SAN carries: https://github.com/<job_workflow_ref>. */
  workflowIdentity(claims?: Partial<GithubClaims>): string;
  /** Requests to the token-request endpoint, with the audience asked. */
  tokenRequests: Array<{ audience: string | null; authorized: boolean }>;
  stop(): Promise<void>;
}

/** The claims of a GitHub Actions ID token (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect). */
export interface GithubClaims {
  sub: string;
  aud: string;
  ref: string;
  ref_type: string;
  sha: string;
  repository: string;
  repository_id: string;
  repository_owner: string;
  repository_owner_id: string;
  repository_visibility: string;
  run_id: string;
  run_number: string;
  run_attempt: string;
  runner_environment: string;
  actor: string;
  actor_id: string;
  event_name: string;
  workflow: string;
  workflow_ref: string;
  workflow_sha: string;
  job_workflow_ref: string;
  job_workflow_sha: string;
}

export const DEFAULT_CLAIMS: GithubClaims = {
  sub: 'repo:acme/config:ref:refs/heads/main',
  aud: 'sigstore',
  ref: 'refs/heads/main',
  ref_type: 'branch',
  sha: '5e4b1fd2a0c4d4a3b1e7f1d7c1a9b2c3d4e5f601',
  repository: 'acme/config',
  repository_id: '123456789',
  repository_owner: 'acme',
  repository_owner_id: '987654',
  repository_visibility: 'private',
  run_id: '4242424242',
  run_number: '17',
  run_attempt: '1',
  runner_environment: 'github-hosted',
  actor: 'octocat',
  actor_id: '583231',
  event_name: 'push',
  workflow: 'release',
  workflow_ref: 'acme/config/.github/workflows/release.yml@refs/heads/main',
  workflow_sha: '5e4b1fd2a0c4d4a3b1e7f1d7c1a9b2c3d4e5f601',
  job_workflow_ref: 'acme/config/.github/workflows/release.yml@refs/heads/main',
  job_workflow_sha: '5e4b1fd2a0c4d4a3b1e7f1d7c1a9b2c3d4e5f601',
};

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startOidcIssuer(options: { claims?: Partial<GithubClaims>; lifetimeSeconds?: number } = {}): Promise<OidcIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  const requestToken = randomBytes(24).toString('base64url');
  const lifetime = options.lifetimeSeconds ?? 300;
  const base: GithubClaims = { ...DEFAULT_CLAIMS, ...options.claims };
  const tokenRequests: OidcIssuer['tokenRequests'] = [];
  let url = '';

  const issueToken = (overrides: Record<string, unknown> = {}): string => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { jti: randomBytes(16).toString('hex'), ...base, iss: url, nbf: now - 5, iat: now, exp: now + lifetime, ...overrides };
    const input = `${b64url({ typ: 'JWT', alg: 'RS256', kid })}.${b64url(claims)}`;
    return `${input}.${sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
  };

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://issuer');
    const json = (status: number, body: unknown): void => sendJson(res, status, body);
    if (req.method !== 'GET') return json(405, { message: 'method not allowed' });
    if (path.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: url,
        jwks_uri: `${url}/.well-known/jwks`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'sha', 'repository', 'repository_owner', 'run_id', 'job_workflow_ref'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid'],
      });
    }
    if (path.pathname === '/.well-known/jwks') {
      return json(200, { keys: [{ ...jwk(publicKey), kid, alg: 'RS256', use: 'sig' }] });
    }
    if (path.pathname === '/_apis/token') {
      const authorized = req.headers.authorization === `Bearer ${requestToken}`;
      const audience = path.searchParams.get('audience');
      tokenRequests.push({ audience, authorized });
      if (!authorized) return json(401, { message: 'the request token is missing or wrong' });
      return json(200, { count: 1, value: issueToken(audience === null ? {} : { aud: audience }) });
    }
    json(404, { message: 'not found' });
  }

  const { server, url: listening } = await listen(handle);
  url = listening;
  return {
    url,
    tokenRequests,
    issueToken,
    actionsEnv: () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/_apis/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken }),
    workflowIdentity: (claims = {}) => `https://github.com/${claims.job_workflow_ref ?? base.job_workflow_ref}`,
    stop: () => stopServer(server),
  };
}

function jwk(key: KeyObject): Record<string, unknown> {
  return key.export({ format: 'jwk' }) as Record<string, unknown>;
}
