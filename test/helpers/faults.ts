import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { ProxyAction, ProxyRequest, RequestHook } from './proxy.js';

/**
 * Fault scenarios for the loopback proxy (test/helpers/proxy.ts): each one is a recipe for a fresh `onRequest`
 * hook that breaks the exchanges a real registry would have with the CLI in one specific way, and counts how
 * often it did. The scenario matrix (test/integration/faults.test.ts) runs every command through each.
 *
 * `expect` says what the CLI should make of it: `success` for transient faults its retries must absorb,
 * `failure` for faults no client can work around (a clean, one-line error is then the only correct end).
 * A fault that found nothing to break (`fired === 0`, e.g. a blob-body fault during `list`) must not change
 * the outcome: the command then has to succeed.
 */
export type FaultExpectation = 'success' | 'failure';

export interface FaultHook {
  onRequest: RequestHook;
  /** Exchanges the fault changed so far. */
  readonly fired: number;
}

export interface FaultScenario {
  id: string;
  /** Short column heading for the matrix table. */
  label: string;
  /** One sentence for docs/reliability.md. */
  description: string;
  expect: FaultExpectation;
  /** Extra global CLI flags the scenario needs (e.g. a short --timeout). */
  args?: string[];
  /** Every run meets this fault, even one that ends before its first request reaches the proxy (a timeout). */
  unconditional?: boolean;
  /** The least time a successful run must take (Retry-After honoured), in ms. */
  minDurationMs?: number;
  /** The most time any run may take, in ms (e.g. a timeout must fire promptly). */
  maxDurationMs?: number;
  /** A fresh hook for one run; `target` is the registry (`host:port`) for faults that fetch the real answer. */
  hook(target: string): FaultHook;
}

const BLOB_GET = /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}$/;
const MANIFEST = /^\/v2\/.+\/manifests\/[^/]+$/;

function pathOf(req: ProxyRequest): string {
  return req.path.split('?')[0] ?? req.path;
}

/** A body mutation that flips the byte at `position` of the stream, keeping the length (a corrupted download). */
export function flipByteAt(position: number): (chunk: Buffer, offset: number) => Buffer {
  return (chunk, offset) => {
    if (position < offset || position >= offset + chunk.length) return chunk;
    const copy = Buffer.from(chunk);
    copy[position - offset]! ^= 0xff;
    return copy;
  };
}

export function isBlobGet(req: ProxyRequest): boolean {
  return req.method === 'GET' && BLOB_GET.test(pathOf(req));
}

export function isManifest(req: ProxyRequest): boolean {
  return MANIFEST.test(pathOf(req));
}

/** GETs whose body the CLI consumes as content: manifests and blobs. */
export function isContentGet(req: ProxyRequest): boolean {
  return req.method === 'GET' && (isBlobGet(req) || isManifest(req));
}

/** A hook that applies `action` to the requests `select` picks, counting them. */
function counting(select: (req: ProxyRequest) => boolean, action: (req: ProxyRequest) => ProxyAction | Promise<ProxyAction>): FaultHook {
  let fired = 0;
  return {
    get fired() {
      return fired;
    },
    onRequest: async (req) => {
      if (!select(req)) return undefined;
      fired++;
      return action(req);
    },
  };
}

export interface UpstreamAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Ask the registry itself (bodiless methods only), so a fault can rewrite a complete, real answer. */
export function fetchUpstream(target: string, req: ProxyRequest): Promise<UpstreamAnswer> {
  const colon = target.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const out = httpRequest(
      { host: target.slice(0, colon), port: Number(target.slice(colon + 1)), method: req.method, path: req.path, headers: req.headers, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(parts) }));
        res.on('error', reject);
      },
    );
    out.on('error', reject);
    out.end();
  });
}

/** Request headers without `Range`: the registry is asked for (or about) the whole blob. */
function withoutRange(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { range: _range, ...rest } = headers;
  return rest;
}

/** Upstream headers as a flat record for a `respond` action, without hop-by-hop ones. */
function plainHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding') continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

const NGINX_502 = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
const PORTAL_PAGE = '<!DOCTYPE html><html><head><title>Sign in to the network</title></head><body><form action="/login"><input name="user"></form></body></html>';
/** A well-formed digest of content nobody stored. */
const FOREIGN_DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

export const FAULTS: readonly FaultScenario[] = [
  {
    id: 'http-500-once',
    label: '500 once',
    description: 'the first attempt of every distinct request is answered 500 Internal Server Error',
    expect: 'success',
    hook: () => counting((r) => r.attempt === 1, () => ({ kind: 'respond', status: 500, headers: { 'content-type': 'text/plain' }, body: 'internal error' })),
  },
  {
    id: 'http-502-always',
    label: '502 always',
    description: 'every request is answered 502 Bad Gateway (plain text), retries included',
    expect: 'failure',
    hook: () => counting(() => true, () => ({ kind: 'respond', status: 502, headers: { 'content-type': 'text/plain' }, body: 'Bad Gateway' })),
  },
  {
    id: 'http-503-twice',
    label: '503 ×2',
    description: 'the first two attempts of every manifest request are answered 503 Service Unavailable',
    expect: 'success',
    hook: () => counting((r) => isManifest(r) && r.attempt <= 2, () => ({ kind: 'respond', status: 503, body: '' })),
  },
  {
    id: 'http-429-retry-after',
    label: '429 Retry-After',
    description: 'the first request is answered 429 Too Many Requests with Retry-After: 1 (the retry must wait a second)',
    expect: 'success',
    minDurationMs: 1000,
    hook: () => counting((r) => r.id === 1, () => ({ kind: 'respond', status: 429, headers: { 'retry-after': '1', 'content-type': 'application/json' }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}' })),
  },
  {
    id: 'lost-answer',
    label: 'lost answer',
    description: 'the first attempt of every write (POST, PATCH, PUT) reaches the registry, which handles it, but the client is answered 500',
    expect: 'success',
    hook: () => counting((r) => ['POST', 'PATCH', 'PUT'].includes(r.method) && r.attempt === 1, () => ({ kind: 'forward', status: 500 })),
  },
  {
    id: 'reset-before-headers',
    label: 'reset before headers',
    description: 'the connection of the first attempt of every distinct request is dropped before any answer',
    expect: 'success',
    hook: () => counting((r) => r.attempt === 1, () => ({ kind: 'reset' })),
  },
  {
    id: 'reset-after-headers',
    label: 'reset after headers',
    description: 'every manifest and blob download is cut right after the status line and headers (one body byte)',
    expect: 'failure',
    hook: () => counting(isContentGet, () => ({ kind: 'forward', truncateResponseAt: 1 })),
  },
  {
    id: 'reset-mid-body',
    label: 'reset mid-body',
    description: 'every blob download, resumed ones included, is cut after half the blob size of body and the connection dropped (each resumption gains bytes)',
    expect: 'success',
    hook: (target) => counting(isBlobGet, async (req) => {
      const { headers } = await fetchUpstream(target, { ...req, method: 'HEAD', headers: withoutRange(req.headers) });
      return { kind: 'forward', truncateResponseAt: Math.max(1, Math.floor(Number(headers['content-length'] ?? 2) / 2)) };
    }),
  },
  {
    id: 'body-cut-mid-stream',
    label: 'body cut mid-stream',
    description: 'the first download of every blob is cut half way through its body and the connection dropped; the resumed (Range) request is served',
    expect: 'success',
    hook: (target) => counting((r) => isBlobGet(r) && r.attempt === 1, async (req) => {
      const { headers } = await fetchUpstream(target, { ...req, method: 'HEAD' });
      return { kind: 'forward', truncateResponseAt: Math.max(1, Math.floor(Number(headers['content-length'] ?? 2) / 2)) };
    }),
  },
  {
    id: 'body-cut-range-ignored',
    label: 'body cut, Range ignored',
    description: 'the first download of every blob is cut half way; later downloads ignore Range and send the whole blob with 200, as some registries do',
    expect: 'success',
    hook: (target) => counting(isBlobGet, async (req) => {
      const real = await fetchUpstream(target, { ...req, headers: withoutRange(req.headers) });
      if (req.attempt > 1 || real.status !== 200) return { kind: 'respond', status: real.status, headers: plainHeaders(real.headers), body: real.body };
      return { kind: 'forward', truncateResponseAt: Math.max(1, Math.floor(real.body.length / 2)) };
    }),
  },
  {
    id: 'truncated-body',
    label: 'truncated body',
    description: 'every manifest and blob download is served half its bytes with a matching Content-Length (a short, well-formed answer)',
    expect: 'failure',
    hook: (target) => counting(isContentGet, async (req) => {
      const real = await fetchUpstream(target, req);
      if (real.status !== 200) return { kind: 'respond', status: real.status, headers: plainHeaders(real.headers), body: real.body };
      const body = real.body.subarray(0, Math.floor(real.body.length / 2));
      return { kind: 'respond', status: 200, headers: { ...plainHeaders(real.headers), 'content-length': String(body.length) }, body };
    }),
  },
  {
    id: 'corrupt-body',
    label: 'corrupted body',
    description: 'every blob download has one byte flipped in the middle (same length)',
    expect: 'failure',
    hook: (target) => counting(isBlobGet, async (req) => {
      const { headers } = await fetchUpstream(target, { ...req, method: 'HEAD' });
      const middle = Math.floor(Number(headers['content-length'] ?? 0) / 2);
      return {
        kind: 'forward',
        mutateBody: flipByteAt(middle),
      };
    }),
  },
  {
    id: 'wrong-content-digest',
    label: 'wrong Docker-Content-Digest',
    description: 'every manifest read (GET, HEAD) is answered with a Docker-Content-Digest of other content',
    expect: 'failure',
    hook: (target) => counting((r) => isManifest(r) && (r.method === 'GET' || r.method === 'HEAD'), async (req) => {
      const real = await fetchUpstream(target, req);
      const headers = plainHeaders(real.headers);
      if (headers['docker-content-digest'] !== undefined) headers['docker-content-digest'] = FOREIGN_DIGEST;
      return { kind: 'respond', status: real.status, headers, body: req.method === 'HEAD' ? undefined : real.body };
    }),
  },
  {
    id: 'slow-past-timeout',
    label: 'delay past --timeout',
    description: 'every request is held 8 s before it reaches the registry, with --timeout 2s (the command must stop within 6 s)',
    expect: 'failure',
    unconditional: true,
    args: ['--timeout', '2s'],
    maxDurationMs: 6000,
    hook: () => counting(() => true, () => ({ kind: 'forward', delayMs: 8000 })),
  },
  {
    id: 'html-502-page',
    label: 'HTML error page',
    description: "every request is answered by a front proxy's 502 HTML page (text/html), retries included",
    expect: 'failure',
    hook: () => counting(() => true, () => ({ kind: 'respond', status: 502, headers: { 'content-type': 'text/html' }, body: NGINX_502 })),
  },
  {
    id: 'html-200-portal',
    label: 'HTML 200 portal',
    description: 'every request is answered 200 OK with an HTML sign-in page, as a captive portal does',
    expect: 'failure',
    hook: () => counting(() => true, () => ({ kind: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: PORTAL_PAGE })),
  },
];
