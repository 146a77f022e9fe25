import type { Readable } from 'node:stream';
import { OciError } from '../errors.js';
import { abortError, untilAborted } from './abort.js';
import { answeredPlainHttp, connectionError, errorCode } from './connection-errors.js';
import { abandonConnects, dispatch, endpointFor, type TlsOptions } from './connection-pool.js';
import { redactHeaders, redactUrl } from './redact.js';
import { discardBody } from './response-body.js';
import {
  isRetryableStatus, isTransientFailure, pauseBeforeRetry, repeatableByDefault, retryPolicy,
  type RetryOptions, type RetryPolicy,
} from './retry-policy.js';
import { mayUsePlainHttp, SchemeProbe, schemeKey } from './scheme-probe.js';

/**
 * The HTTP client every registry request goes through: a path is sent to the registry on the scheme it speaks
 * (scheme-probe.ts), on the endpoint's pooled connections (connection-pool.ts), repeated under the retry policy
 * (retry-policy.ts), and redirects are followed by hand so credentials never leave the registry's origin. Each
 * exchange is logged, redacted, for --verbose/--debug; a failure without an answer becomes an OciError
 * (connection-errors.ts); an answer, whatever its status, is the caller's to judge.
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

export interface HttpClientOptions extends TlsOptions {
  userAgent?: string;
  onRequest?: RequestLogger;
  retry?: RetryOptions;
  /** The schemes learned in this run (the run's registry cache); default: this client's own. */
  schemes?: SchemeProbe;
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

/** HTTP client for one registry endpoint (`host[:port]`). */
export class HttpClient {
  private readonly retry: RetryPolicy;
  private readonly schemes: SchemeProbe;
  private readonly schemeKey: string;

  constructor(
    readonly host: string,
    private readonly options: HttpClientOptions = {},
  ) {
    this.retry = retryPolicy(options.retry);
    this.schemes = options.schemes ?? new SchemeProbe();
    this.schemeKey = schemeKey(host, options.insecure);
  }

  private get mayUseHttp(): boolean {
    return mayUsePlainHttp(this.host, this.options.insecure);
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
    const scheme = this.mayUseHttp ? (this.schemes.known(this.schemeKey) ?? 'https') : 'https';
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

  /** One exchange, made alone while this host's scheme is still being found out (see scheme-probe.ts). */
  private attempt(req: HttpRequest & { url: string; headers: Record<string, string> }): Promise<HttpResponse> {
    if (!this.mayUseHttp || !req.url.startsWith('/') || this.schemes.known(this.schemeKey) !== undefined) return this.exchange(req);
    return this.schemes.oneAtATime(this.schemeKey, req.signal, `${req.what} at ${this.host}`, () => this.exchange(req));
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
      const pending = dispatch(endpoint, {
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
      if (url.host === this.host && this.mayUseHttp) this.schemes.learn(this.schemeKey, url.protocol === 'http:' ? 'http' : 'https');
      return { status: res.statusCode, headers, body: res.body, url: url.href };
    } catch (err) {
      log({ error: errorCode(err) ?? (err as Error).message });
      if (req.signal?.aborted) throw abortError(req.signal, whatAt);
      if (url.protocol === 'https:' && url.host === this.host && this.mayUseHttp && answeredPlainHttp(err)) {
        this.schemes.learn(this.schemeKey, 'http');
        url.protocol = 'http:';
        return this.exchange({ ...req, url: url.href });
      }
      throw connectionError(err, this.host, req.what, !!this.options.certFile);
    }
  }
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

