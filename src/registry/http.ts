import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import type { Agent, buildConnector, Dispatcher, ProxyAgent } from 'undici';
import { OciError } from '../errors.js';
import { abortError, untilAborted } from './abort.js';
import { proxyFor } from './proxy-env.js';
import { discardBody } from './response-body.js';
import {
  isRetryableStatus, isTransientFailure, pauseBeforeRetry, repeatableByDefault, retryPolicy, TRANSIENT_ERROR,
  type RetryOptions, type RetryPolicy,
} from './retry-policy.js';

/**
 * The only module that talks to undici: scheme choice (HTTPS first, plain HTTP for loopback/--insecure),
 * one keep-alive Agent per endpoint and TLS settings, retries with backoff, manual redirects that never leak
 * credentials, and conversion of failures into OciError.
 */

export interface RequestLog {
  method: string;
  /** URL with secret-looking query parameters redacted. */
  url: string;
  status?: number;
  durationMs: number;
  requestHeaders?: Record<string, string>;
  responseHeaders?: Record<string, string>;
  /** Set when no response arrived (connection error, abort). */
  error?: string;
}

export type RequestLogger = (entry: RequestLog) => void;

export interface TlsOptions {
  /** Allow plain HTTP and unverified TLS certificates. */
  insecure?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface HttpClientOptions extends TlsOptions {
  userAgent?: string;
  onRequest?: RequestLogger;
  retry?: RetryOptions;
}

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** A path (`/v2/...`) on the registry, or an absolute URL (upload location, token realm, redirect). */
  url: string;
  headers?: Record<string, string>;
  /** Always a Buffer, so every attempt can replay it. */
  body?: Buffer;
  /**
   * Whether failed attempts may be repeated. Default: GET/HEAD/PUT/DELETE yes, POST/PATCH no; set true for an
   * upload-session POST, false for an upload PUT whose body must not be appended twice.
   */
  idempotent?: boolean;
  /** Follow up to 5 redirects (blob downloads); otherwise 3xx is returned as is. */
  followRedirects?: boolean;
  signal?: AbortSignal;
  /** What was asked, for error messages: `manifest app:v1`. */
  what: string;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Readable;
  /** The URL that answered, after redirects. */
  url: string;
}

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/** Connection failures worth another attempt; refused connections and DNS failures are not (fail fast). */
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
/** What OpenSSL says when the peer answered a TLS hello with plain HTTP. */
const NOT_TLS_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);

type RequestFn = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
/** undici's connector as it is at run time: it returns the socket it starts (its typings say void). */
type ConnectFn = (options: buildConnector.Options, callback: (err: Error | null, socket: Socket | null) => void) => Socket;
type BuildConnector = (options: buildConnector.BuildOptions) => ConnectFn;

/**
 * undici's index also loads fetch, WebSocket, EventSource, caches and mocks: about 50 ms of CPU and 10 MiB on
 * every start of a command that talks to a registry (bench/, start-up). Only the Agent and its request() are used
 * here, so load just those two files; should a later undici move them, fall back to the index.
 */
const undici = ((): { Agent: typeof Agent; request: RequestFn; buildConnector: BuildConnector } => {
  const require = createRequire(import.meta.url);
  try {
    return {
      Agent: require('undici/lib/dispatcher/agent.js') as typeof Agent,
      request: require('undici/lib/api/api-request.js') as RequestFn,
      buildConnector: require('undici/lib/core/connect.js') as BuildConnector,
    };
  } catch {
    const full = require('undici') as typeof import('undici');
    return { Agent: full.Agent, request: full.Dispatcher.prototype.request as RequestFn, buildConnector: full.buildConnector as unknown as BuildConnector };
  }
})();

/** How long one connection (TCP and TLS handshake) may take; not retried, as a host that let it lapse will again. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A pool per endpoint, with the sockets it is still connecting. undici lets an aborted request go only once its
 * connection is made (up to the connect timeout), and a connecting socket keeps the process alive: an abort
 * destroys them (see `abandonConnects`).
 */
interface Endpoint {
  dispatcher: Dispatcher;
  connecting: Set<Socket>;
}

const endpoints = new Map<string, Endpoint>();
/** Scheme that worked per host, for hosts where plain HTTP is allowed. */
const schemes = new Map<string, 'https' | 'http'>();
/**
 * While a host's scheme is unknown, the first request finds it out and the others wait until it is known (at the
 * failed TLS handshake or the first answer, not the end of the exchange), so parallel first requests (push's two
 * HEADs) cost one failed handshake, not one each, and still overlap on the wire.
 */
const probes = new Map<string, { known: Promise<void>; settle(): void }>();

function learnScheme(key: string, scheme: 'https' | 'http'): void {
  schemes.set(key, scheme);
  probes.get(key)?.settle();
}

export function isLoopback(host: string): boolean {
  const name = hostName(host);
  return name === 'localhost' || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'));
}

function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

function endpointFor(origin: string, tls: TlsOptions): Endpoint {
  const proxy = proxyFor(new URL(origin));
  const key = JSON.stringify([origin, !!tls.insecure, tls.caFile ?? '', tls.certFile ?? '', tls.keyFile ?? '', proxy ?? '']);
  let endpoint = endpoints.get(key);
  if (endpoint === undefined) {
    const connect: buildConnector.BuildOptions = { rejectUnauthorized: !tls.insecure, timeout: CONNECT_TIMEOUT_MS };
    // A custom CA is added to Node's roots rather than replacing them.
    if (tls.caFile) connect.ca = [...rootCertificates, readTlsFile(tls.caFile, 'CA')];
    if (tls.certFile) connect.cert = readTlsFile(tls.certFile, 'client certificate');
    if (tls.keyFile) connect.key = readTlsFile(tls.keyFile, 'client key');
    const pool = { keepAliveTimeout: 30_000, connections: 16 };
    const connecting = new Set<Socket>();
    // Through a proxy (HTTPS_PROXY/HTTP_PROXY, NO_PROXY): a CONNECT tunnel, with the registry's TLS settings inside it.
    const dispatcher = proxy === undefined
      ? new undici.Agent({ ...pool, connect: trackingConnector(connect, connecting) as unknown as buildConnector.connector })
      : new (loadProxyAgent())({ ...pool, uri: proxy, requestTls: connect });
    endpoint = { dispatcher, connecting };
    endpoints.set(key, endpoint);
  }
  return endpoint;
}

/** undici's connector, noting each socket from its start until its handshake ended either way. */
function trackingConnector(options: buildConnector.BuildOptions, connecting: Set<Socket>): ConnectFn {
  const connect = undici.buildConnector(options);
  return (params, callback) => {
    let settled = false;
    const socket = connect(params, (err, connected) => {
      settled = true;
      connecting.delete(socket);
      callback(err, connected);
    });
    if (!settled) connecting.add(socket);
    return socket;
  };
}

/** Give up the connections an endpoint is still making; undici fails (and we retry) any other request waiting on them. */
function abandonConnects(endpoint: Endpoint): void {
  for (const socket of endpoint.connecting) {
    socket.destroy(Object.assign(new Error('connection abandoned: the request was aborted'), { code: 'ECONNABORTED' }));
  }
}

/**
 * Loaded only when a proxy is configured. The tunnel uses Dispatcher#connect, which undici's index attaches, so
 * here the index is needed (its extra start-up cost is paid only behind a proxy).
 */
function loadProxyAgent(): typeof ProxyAgent {
  return (createRequire(import.meta.url)('undici') as typeof import('undici')).ProxyAgent;
}

function readTlsFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new OciError('TLS_FILE_UNREADABLE', `cannot read the ${what} file ${path}: ${(err as Error).message}`, { kind: 'usage', cause: err });
  }
}

/** Close every cached connection pool (end of the process, or tests). */
export async function closeAllConnections(): Promise<void> {
  const all = [...endpoints.values()];
  endpoints.clear();
  await Promise.all(all.map((e) => e.dispatcher.close()));
}

/** HTTP client for one registry endpoint (`host[:port]`). */
export class HttpClient {
  private readonly retry: RetryPolicy;
  private readonly schemeKey: string;

  constructor(
    readonly host: string,
    private readonly options: HttpClientOptions = {},
  ) {
    this.retry = retryPolicy(options.retry);
    this.schemeKey = `${host}|${options.insecure ? 'insecure' : ''}`;
  }

  /** Plain HTTP is tried only where Docker would: loopback hosts and --insecure. */
  private get mayUseHttp(): boolean {
    return !!this.options.insecure || isLoopback(this.host);
  }

  /** Send a request with retries; returns any final status (callers decide which are errors). */
  async send(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    const headers: Record<string, string> = { 'user-agent': this.options.userAgent ?? 'oci-artifact', ...req.headers };
    let foreign = false; // a redirect left the registry's origin
    for (let hop = 0; ; hop++) {
      const res = await this.sendWithRetries({ ...req, url, headers });
      if (foreign && res.status === 401) {
        // A challenge is learned from the registry only: answering another origin's would send it the credentials.
        discardBody(res.body);
        throw new OciError('REDIRECT_UNAUTHORIZED', `registry ${this.host} redirected ${req.what} to ${new URL(res.url).origin}, which answered 401; the registry's credentials are not sent there`, {
          hint: 'the registry handed out a download address that asks for other credentials; report it to the registry operator',
        });
      }
      if (!req.followRedirects || !REDIRECT_STATUS.has(res.status)) return res;
      res.body.resume();
      const location = res.headers.location;
      if (location === undefined) return res;
      if (hop >= MAX_REDIRECTS) {
        throw new OciError('TOO_MANY_REDIRECTS', `registry ${this.host} redirected ${req.what} more than ${MAX_REDIRECTS} times`);
      }
      const next = new URL(location, res.url);
      const from = new URL(res.url);
      if (from.protocol === 'https:' && next.protocol !== 'https:') {
        throw new OciError('REDIRECT_REFUSED', `registry ${this.host} redirected ${req.what} from HTTPS to insecure ${next.protocol}//${next.host}; refused`);
      }
      if (next.origin !== from.origin) {
        // Credentials are for the registry only: a storage backend gets its own (pre-signed) URL.
        delete headers.authorization;
        delete headers.Authorization;
        foreign = true;
      }
      url = next.href;
    }
  }

  /** Resolve a path against the registry; absolute URLs pass unchanged. */
  private absolute(url: string): string {
    if (!url.startsWith('/')) return url;
    const scheme = this.mayUseHttp ? (schemes.get(this.schemeKey) ?? 'https') : 'https';
    return `${scheme}://${this.host}${url}`;
  }

  private async sendWithRetries(req: HttpRequest & { url: string; headers: Record<string, string> }): Promise<HttpResponse> {
    const retryable = req.idempotent ?? repeatableByDefault(req.method);
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await this.attempt(req);
      } catch (err) {
        if (!retryable || !isTransientFailure(err) || attempt >= this.retry.retries) throw err;
        await pauseBeforeRetry(this.retry, attempt, undefined, req.signal, `${req.what} at ${this.host}`);
        continue;
      }
      if (!retryable || !isRetryableStatus(res.status) || attempt >= this.retry.retries) return res;
      res.body.resume();
      await pauseBeforeRetry(this.retry, attempt, res.headers['retry-after'], req.signal, `${req.what} at ${this.host}`);
    }
  }

  /** One exchange, made alone while this host's scheme is still being found out (see `probes`). */
  private async attempt(req: HttpRequest & { url: string; headers: Record<string, string> }): Promise<HttpResponse> {
    if (!this.mayUseHttp || !req.url.startsWith('/') || schemes.has(this.schemeKey)) return this.exchange(req);
    const pending = probes.get(this.schemeKey);
    if (pending !== undefined) {
      await untilAborted(pending.known, req.signal, () => abortError(req.signal!, `${req.what} at ${this.host}`));
      return this.exchange(req);
    }
    let settle = (): void => undefined;
    const known = new Promise<void>((resolve) => (settle = resolve));
    probes.set(this.schemeKey, { known, settle });
    try {
      return await this.exchange(req);
    } finally {
      probes.delete(this.schemeKey);
      settle(); // also when the probe failed for another reason: the others then try for themselves
    }
  }

  /** One exchange; on a loopback/--insecure host that does not speak TLS, switch to plain HTTP and redo it. */
  private async exchange(req: HttpRequest & { url: string; headers: Record<string, string> }): Promise<HttpResponse> {
    const url = new URL(this.absolute(req.url));
    const started = Date.now();
    const log = (entry: Partial<RequestLog>): void => {
      this.options.onRequest?.({
        method: req.method,
        url: redactUrl(url.href),
        durationMs: Date.now() - started,
        requestHeaders: redactHeaders(req.headers),
        ...entry,
      });
    };
    const whatAt = `${req.what} at ${this.host}`;
    if (req.signal?.aborted) throw abortError(req.signal, whatAt);
    try {
      const endpoint = endpointFor(url.origin, this.options);
      const pending = undici.request.call(endpoint.dispatcher, {
        origin: url.origin,
        path: url.pathname + url.search,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: req.signal,
      });
      // undici honours the signal only once connected: the deadline and Ctrl-C also end a connect or TLS handshake.
      const res = await untilAborted(pending, req.signal, () => {
        abandonConnects(endpoint);
        return abortError(req.signal!, whatAt);
      });
      const headers = flattenHeaders(res.headers);
      log({ status: res.statusCode, responseHeaders: redactHeaders(headers) });
      if (url.host === this.host && this.mayUseHttp) learnScheme(this.schemeKey, url.protocol === 'http:' ? 'http' : 'https');
      return { status: res.statusCode, headers, body: res.body, url: url.href };
    } catch (err) {
      log({ error: errorCode(err) ?? (err as Error).message });
      if (req.signal?.aborted) throw abortError(req.signal, whatAt);
      const code = errorCode(err);
      if (url.protocol === 'https:' && url.host === this.host && this.mayUseHttp && code !== undefined && NOT_TLS_CODES.has(code)) {
        learnScheme(this.schemeKey, 'http');
        url.protocol = 'http:';
        return this.exchange({ ...req, url: url.href });
      }
      throw this.connectionError(err, req.what);
    }
  }

  private connectionError(err: unknown, what: string): OciError {
    const code = errorCode(err) ?? 'UNKNOWN';
    const message = (err as Error).message;
    if (UNREACHABLE_CODES.has(code)) {
      const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host not found' : code;
      return new OciError('REGISTRY_UNREACHABLE', `cannot reach registry ${this.host} (${why}) for ${what}`, {
        cause: err,
        hint: 'check the registry address and port, and that the registry is running',
      });
    }
    if (code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new OciError('CONNECT_TIMEOUT', `registry ${this.host} did not complete a connection within ${CONNECT_TIMEOUT_MS / 1000}s for ${what}`, {
        cause: err,
        hint: 'check the registry address and port (something there takes connections but does not answer); --timeout bounds the whole command',
      });
    }
    if (TRANSIENT_CODES.has(code)) {
      // A registry that requires a client certificate closes the connection right after the TLS handshake.
      const closed = (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') && !this.options.certFile;
      return new OciError(TRANSIENT_ERROR, `connection to registry ${this.host} failed (${code}) for ${what}`, {
        cause: err,
        hint: closed ? 'if the registry requires a client certificate, pass --cert-file and --key-file' : undefined,
      });
    }
    if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
      return new OciError('TLS_ERROR', `TLS connection to registry ${this.host} failed for ${what}: ${code}`, {
        cause: err,
        hint: 'pass --ca-file with the registry CA, or --insecure-registry for a registry you trust without verification',
      });
    }
    return new OciError(TRANSIENT_ERROR, `request to registry ${this.host} failed for ${what}: ${message}`, { cause: err });
  }
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return undefined;
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * A URL the registry handed out (a `Link` to the next page, an upload or mount `Location`), resolved against the
 * answer that carried it. Requests to it carry the registry's credentials, so it must stay on the same host and
 * port and never go from HTTPS to plain HTTP (only http -> https is allowed); anything else is refused.
 */
export function handedOutUrl(value: string, res: Pick<HttpResponse, 'url'>, host: string, what: string): string {
  const base = new URL(res.url);
  let next: URL;
  try {
    next = new URL(value, base);
  } catch {
    throw new OciError('REGISTRY_URL_REFUSED', `registry ${host} sent an unusable address for ${what}; refused`);
  }
  const downgrade = base.protocol === 'https:' && next.protocol !== 'https:';
  if (next.host !== base.host || downgrade || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
    throw new OciError('REGISTRY_URL_REFUSED', `registry ${host} sent an address for ${what} on another host or scheme (${next.protocol}//${next.host}); refused`, {
      hint: 'the registry (or a proxy in front of it) is misconfigured or hostile; no credentials were sent there',
    });
  }
  return next.href;
}

/** Map a failure seen while streaming a response body to an OciError. */
export function streamError(err: unknown, signal: AbortSignal | undefined, what: string, host: string): OciError {
  if (err instanceof OciError) return err;
  if (signal?.aborted) return abortError(signal, `${what} at ${host}`);
  return new OciError(TRANSIENT_ERROR, `connection to registry ${host} broke while reading ${what}: ${(err as Error).message}`, { cause: err });
}

const SECRET_PARAM = /sig|token|credential|secret|password|key|auth/i;

export function redactUrl(href: string): string {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return href;
  }
  url.username = '';
  url.password = '';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, 'REDACTED');
  }
  return url.href;
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (SECRET_HEADERS.has(name)) {
      // Keep the scheme word (`Bearer`, `Basic`) so a log shows which auth was used; nothing else.
      const scheme = /^([A-Za-z]+) \S/.exec(v)?.[1];
      out[k] = name.endsWith('authorization') && scheme !== undefined ? `${scheme} REDACTED` : 'REDACTED';
    }
    else if (name === 'location') out[k] = redactUrl(v);
    else out[k] = v;
  }
  return out;
}
