import { createHash } from 'node:crypto';
import { OciError } from '../errors.js';
import { rememberPassword, rememberSecret } from '../secrets.js';
import { parseWWWAuthenticate, type Challenge } from './challenge.js';
import type { Credential } from './credentials.js';
import type { HttpClient, HttpRequest, HttpResponse } from './http.js';
import { responseError } from './registry-errors.js';
import { readAtMost } from './response-body.js';
import { covers, mergeScopes } from './scopes.js';

/**
 * The registry auth handshake (distribution's token authentication): the first real request takes the challenge
 * (no `/v2/` ping); after that, the scheme is known per host and later requests carry credentials up front, with
 * Bearer tokens fetched from the challenge's realm and reused while they cover the scopes asked for. Where the
 * credential comes from is credentials.ts.
 */

export interface CachedToken {
  token: string;
  expiresAt: number;
  scopes: string[];
}

/**
 * What the handshake remembers for one run (the run's registry cache, registry-cache.ts): the challenge each host answered
 * with, so later requests skip the 401 round trip, and the tokens granted, reused by every repository on the same
 * host with the same credential.
 */
export interface HandshakeCache {
  /** Keyed by host. */
  challenges: Map<string, Challenge>;
  /** Keyed by host and a fingerprint of the credential. */
  tokens: Map<string, CachedToken[]>;
}

const DEFAULT_TOKEN_SECONDS = 60;
const EXPIRY_MARGIN_MS = 5_000;
const MAX_TOKEN_BODY = 1024 * 1024;

/** Sends requests to one registry host with the right Authorization header, answering challenges. */
export class Authenticator {
  private credential: Promise<Credential | undefined> | undefined;

  constructor(
    private readonly http: HttpClient,
    private readonly credentials: () => Promise<Credential | undefined>,
    private readonly cache: HandshakeCache,
  ) {}

  private get host(): string {
    return this.http.host;
  }

  private async cred(): Promise<Credential | undefined> {
    this.credential ??= this.credentials().then((cred) => {
      // Whatever the source, the secrets of the credential are never printed (secrets.ts).
      if (cred?.username !== undefined) rememberPassword(cred.username, cred.password);
      rememberSecret(cred?.token);
      rememberSecret(cred?.identityToken);
      return cred;
    });
    return this.credential;
  }

  /** Send `req` needing `scopes` (token scopes, e.g. repositoryScope(name, true)). */
  async send(req: HttpRequest, scopes: string[]): Promise<HttpResponse> {
    if (!this.isRegistryUrl(req.url)) return this.http.send(req); // credentials go to the registry host only
    const cred = await this.cred();
    const first = await this.authorization(cred, scopes, req.signal, false);
    const res = await this.http.send(withAuth(req, first));
    if (res.status !== 401) return res;

    const challenge = pickChallenge(res.headers['www-authenticate']);
    if (challenge === undefined) throw await responseError(res, this.host, req.what);
    res.body.resume();
    this.cache.challenges.set(this.host, challenge);
    if (first !== undefined && (challenge.scheme === 'basic' || cred?.token !== undefined)) {
      throw this.rejected(cred, req.what); // what we sent is what the registry refused
    }
    if (challenge.scheme === 'bearer') {
      const extra = challenge.params.scope?.split(' ').filter((s) => s !== '') ?? [];
      scopes = mergeScopes([...scopes, ...extra]);
    }
    const second = await this.authorization(cred, scopes, req.signal, true);
    if (second === undefined) throw this.missing(req.what);
    const retried = await this.http.send(withAuth(req, second));
    if (retried.status === 401) {
      retried.body.resume();
      if (cred !== undefined && pickChallenge(retried.headers['www-authenticate'])?.params.error === 'insufficient_scope') {
        throw this.denied(cred, req.what);
      }
      throw cred === undefined ? this.missing(req.what) : this.rejected(cred, req.what);
    }
    return retried;
  }

  private isRegistryUrl(url: string): boolean {
    return url.startsWith('/') || new URL(url).host === this.host;
  }

  /** The header for the host's known challenge; undefined before the host's first challenge (or anonymous Basic). */
  private async authorization(cred: Credential | undefined, scopes: string[], signal: AbortSignal | undefined, fresh: boolean): Promise<string | undefined> {
    // Nothing goes out before the host has asked: a registry token too waits for the host's own challenge.
    const challenge = this.cache.challenges.get(this.host);
    if (challenge === undefined) return undefined;
    if (cred?.token !== undefined) return `Bearer ${cred.token}`;
    if (challenge.scheme === 'basic') {
      return cred?.username !== undefined ? basic(cred.username, cred.password ?? '') : undefined;
    }
    if (challenge.scheme !== 'bearer') {
      throw new OciError('AUTH_SCHEME_UNSUPPORTED', `registry ${this.host} asks for '${challenge.scheme}' authentication, which is not supported`, { kind: 'auth' });
    }
    const key = `${this.host}\n${fingerprint(cred)}`;
    const now = Date.now();
    const cached = (this.cache.tokens.get(key) ?? []).filter((t) => t.expiresAt > now);
    const hit = fresh ? undefined : cached.find((t) => covers(t.scopes, scopes));
    if (hit !== undefined) return `Bearer ${hit.token}`;
    const token = await this.fetchToken(challenge, cred, scopes, signal);
    this.cache.tokens.set(key, [...cached.filter((t) => !covers(scopes, [...t.scopes])), token]);
    return `Bearer ${token.token}`;
  }

  private async fetchToken(challenge: Challenge, cred: Credential | undefined, scopes: string[], signal: AbortSignal | undefined): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw new OciError('AUTH_CHALLENGE_INVALID', `registry ${this.host} sent a Bearer challenge without a realm`, { kind: 'auth' });
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new OciError('AUTH_CHALLENGE_INVALID', `registry ${this.host} sent a Bearer challenge with an invalid realm`, { kind: 'auth' });
    }
    const what = `a token for ${scopes.join(' ') || 'the registry'}`;
    let req: HttpRequest;
    if (cred?.identityToken !== undefined) {
      // OAuth2 refresh-token grant, as Docker does with an identity token from `docker login`.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.identityToken, client_id: 'oci-artifact' });
      if (challenge.params.service) form.set('service', challenge.params.service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      req = {
        method: 'POST', url: url.href, idempotent: true, what, signal,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      };
    } else {
      if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      const headers: Record<string, string> = {};
      if (cred?.username !== undefined) headers.authorization = basic(cred.username, cred.password ?? '');
      req = { method: 'GET', url: url.href, headers, what, signal };
    }
    const res = await this.http.send(req);
    if (res.status === 401 || res.status === 403) {
      res.body.resume();
      throw cred === undefined ? this.missing(what) : this.rejected(cred, what);
    }
    if (res.status !== 200) throw await responseError(res, url.host, what);
    const { bytes, truncated } = await readAtMost(res.body, MAX_TOKEN_BODY);
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      if (truncated) throw new Error('too large');
      body = JSON.parse(bytes.toString('utf8')) as typeof body;
      // `null` (or a bare string) parses too, and would fail below as a TypeError.
      if (typeof body !== 'object' || body === null) throw new Error('not an object');
    } catch {
      throw new OciError('AUTH_TOKEN_INVALID', `the token service of registry ${this.host} (${url.host}) sent an unreadable answer`, { kind: 'auth' });
    }
    const token = typeof body.token === 'string' && body.token !== '' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new OciError('AUTH_TOKEN_INVALID', `the token service of registry ${this.host} (${url.host}) sent no token`, { kind: 'auth' });
    }
    rememberSecret(token);
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    return { token, expiresAt: Date.now() + seconds * 1000 - EXPIRY_MARGIN_MS, scopes };
  }

  private rejected(cred: Credential | undefined, what: string): OciError {
    const from = cred?.source ? ` from ${cred.source}` : '';
    return new OciError('UNAUTHORIZED', `registry ${this.host} rejected the credentials${from} for ${what}`, {
      kind: 'auth',
      hint: `check --creds, or run 'docker login ${this.host}'`,
    });
  }

  /** Valid credentials whose token does not grant what the request needs (the registry said insufficient_scope). */
  private denied(cred: Credential, what: string): OciError {
    const from = cred.source ? ` from ${cred.source}` : '';
    return new OciError('DENIED', `registry ${this.host} denied ${what}: the credentials${from} do not grant that access`, {
      kind: 'auth',
      hint: 'check the permissions of this user or token on the repository',
    });
  }

  private missing(what: string): OciError {
    return new OciError('UNAUTHORIZED', `registry ${this.host} requires authentication for ${what}`, {
      kind: 'auth',
      hint: `pass --creds <user>:<password>, or run 'docker login ${this.host}'`,
    });
  }
}

function withAuth(req: HttpRequest, authorization: string | undefined): HttpRequest {
  if (authorization === undefined) return req;
  return { ...req, headers: { ...req.headers, authorization } };
}

/** Prefer Bearer (scoped tokens) over Basic when a registry offers both. */
function pickChallenge(header: string | undefined): Challenge | undefined {
  const all = parseWWWAuthenticate(header ?? '');
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic') ?? all[0];
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** A cache key that tells credentials apart without holding them in clear. */
function fingerprint(cred: Credential | undefined): string {
  if (cred === undefined) return 'anonymous';
  return createHash('sha256').update(JSON.stringify([cred.username, cred.password, cred.identityToken])).digest('hex');
}
