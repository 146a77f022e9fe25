import { createHash, createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestLeaf } from './pki.js';

/**
 * A small Docker token service (distribution's "token authentication specification" and its OAuth2 form) for the
 * real registry's `auth.token`: it checks Basic credentials, password grants and refresh tokens, grants the
 * requested scope (or what `grant` allows), and signs JWTs with a certificate the registry trusts through its
 * rootcertbundle: `x5c` carries the signing certificate, `kid` its libtrust key ID, as distribution 2.8 reads them.
 */
export interface TokenServerOptions {
  /** username -> password. */
  users: Record<string, string>;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
  /** Actions granted to `user` (undefined = anonymous) on a resource; default: all requested when authenticated. */
  grant?: (user: string | undefined, type: string, name: string, actions: string[]) => string[];
}

export interface TokenRequest {
  method: string;
  grantType: string;
  /** The user that was authenticated, if any. */
  user?: string;
  /** The user name and password the client presented (Basic or password grant), accepted or not. */
  presented?: { user: string; password: string };
  scopes: string[];
  service?: string;
  offline: boolean;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  requests: TokenRequest[];
  /** A refresh token for `user`, as the token service would hand out on an offline_token request. */
  issueRefreshToken(user: string): string;
  stop(): Promise<void>;
}

export const TOKEN_SERVICE = 'oci-artifact-test-registry';
export const TOKEN_ISSUER = 'oci-artifact-test-token-issuer';

export async function startTokenServer(signer: TestLeaf, options: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(signer.keyPem);
  const alg = key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
  const cert = new X509Certificate(signer.certPem);
  const header = { typ: 'JWT', alg, kid: libtrustKeyId(cert), x5c: [cert.raw.toString('base64')] };
  const refreshTokens = new Map<string, string>();
  const requests: TokenRequest[] = [];
  const expiresIn = options.expiresIn ?? 300;
  const grant = options.grant ?? ((user, _type, _name, actions) => (user === undefined ? [] : actions));

  const issueRefreshToken = (user: string): string => {
    const token = `rt-${randomBytes(16).toString('hex')}`;
    refreshTokens.set(token, user);
    return token;
  };

  const jwt = (user: string | undefined, scopes: string[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.map(parseScope).filter((s) => s !== undefined).map((s) => ({
      type: s.type, name: s.name, actions: grant(user, s.type, s.name, s.actions).filter((a) => s.actions.includes(a) || s.actions.includes('*')),
    }));
    const claims = { iss: TOKEN_ISSUER, sub: user ?? '', aud: TOKEN_SERVICE, exp: now + expiresIn, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(header)}.${b64url(claims)}`;
    const signature = sign(alg === 'ES256' ? 'sha256' : 'RSA-SHA256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
    return `${input}.${signature.toString('base64url')}`;
  };

  const checkPassword = (user: string, password: string): boolean => options.users[user] !== undefined && options.users[user] === password;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://token');
    let params = url.searchParams;
    if (req.method === 'POST') {
      const parts: Buffer[] = [];
      for await (const chunk of req) parts.push(chunk as Buffer);
      params = new URLSearchParams(Buffer.concat(parts).toString('utf8'));
    }
    const scopes = params.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s !== '');
    const record: TokenRequest = {
      method: req.method ?? '', grantType: params.get('grant_type') ?? 'basic', scopes, service: params.get('service') ?? undefined,
      offline: params.get('offline_token') === 'true' || params.get('access_type') === 'offline',
    };
    requests.push(record);
    const deny = (status: number, error: string): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error, errors: [{ code: 'UNAUTHORIZED', message: 'authentication failed' }] }));
    };
    if (record.service !== TOKEN_SERVICE) return deny(400, 'invalid_request');
    let user: string | undefined;
    if (req.method === 'GET') {
      const auth = req.headers.authorization;
      if (auth !== undefined) {
        const decoded = /^Basic (.+)$/i.exec(auth) ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
        const colon = decoded.indexOf(':');
        if (colon >= 0) record.presented = { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
        if (colon < 0 || !checkPassword(decoded.slice(0, colon), decoded.slice(colon + 1))) return deny(401, 'invalid_grant');
        user = decoded.slice(0, colon);
      }
    } else if (record.grantType === 'password') {
      record.presented = { user: params.get('username') ?? '', password: params.get('password') ?? '' };
      if (!checkPassword(params.get('username') ?? '', params.get('password') ?? '')) return deny(401, 'invalid_grant');
      user = params.get('username')!;
    } else if (record.grantType === 'refresh_token') {
      user = refreshTokens.get(params.get('refresh_token') ?? '');
      if (user === undefined) return deny(401, 'invalid_grant');
    } else {
      return deny(400, 'unsupported_grant_type');
    }
    record.user = user;
    const token = jwt(user, scopes);
    const body: Record<string, unknown> = { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() };
    if (user !== undefined && (record.offline || req.method === 'POST')) body.refresh_token = issueRefreshToken(user);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service: TOKEN_SERVICE,
    issuer: TOKEN_ISSUER,
    requests,
    issueRefreshToken,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',') };
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** libtrust's key ID: the first 240 bits of SHA-256 over the DER public key, base32, in 12 groups of 4. */
export function libtrustKeyId(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  const bytes = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return out.match(/.{4}/g)!.join(':');
}
