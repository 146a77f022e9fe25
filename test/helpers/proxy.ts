import { readFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A loopback HTTP proxy in front of a real registry, for counting what a client does and for injecting faults.
 *
 * Every request is forwarded unchanged (the Host header too, so the registry's upload `Location`s point back at
 * the proxy and the whole session goes through it), after `latencyMs` of added delay: that models a distant
 * registry, where what the user waits for is the number of sequential round trips, not bytes.
 *
 * The request log gives request counts and sequential round trips (see `sequentialRoundTrips`). The `onRequest`
 * hook decides per request what happens (forward, answer, reset, truncate, extra delay); a new kind of fault is a
 * new member of `ProxyAction` and one more case in `apply`. This is the only test proxy: endpoints a hosted
 * registry adds in front of its API (a token exchange, redirects to object storage) are `respond` actions too.
 */

export interface ProxyRequest {
  /** 1-based position in arrival order. */
  id: number;
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** How many requests with this method and path (query excluded) arrived before this one, plus one. */
  attempt: number;
  /**
   * The request body, read in full (for a hook that answers a form POST itself). Once read, a `forward` sends
   * these bytes upstream instead of streaming the request.
   */
  body(): Promise<Buffer>;
}

/** What to do with one request; `undefined` from the hook means `{ kind: 'forward' }`. */
export type ProxyAction =
  /**
   * Pass to the registry. `delayMs` adds to the latency; `status` replaces the registry's status after it handled
   * the request (a failure that hid a success); `mutateBody` rewrites each response chunk in place (same length:
   * corrupt a blob); `truncateResponseAt` cuts the body after that many bytes and drops the connection.
   */
  | {
      kind: 'forward';
      delayMs?: number;
      status?: number;
      mutateBody?: (chunk: Buffer, offset: number) => Buffer;
      truncateResponseAt?: number;
      /** Rewrite the registry's response headers in place (a `Link` or `Location` pointing elsewhere). */
      rewriteHeaders?: (headers: IncomingHttpHeaders) => void;
      /** Ask the registry for this path and query instead (a registry that resolves a name differently). */
      path?: string;
    }
  /** Answer without asking the registry (e.g. 500, or 429 with Retry-After). */
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string | Buffer }
  /** Drop the client's connection without an answer. */
  | { kind: 'reset' };

export type RequestHook = (request: ProxyRequest) => ProxyAction | undefined | Promise<ProxyAction | undefined>;

export interface RequestRecord {
  id: number;
  method: string;
  path: string;
  /** Status sent to the client; 0 when the connection was reset or failed before a status. */
  status: number;
  /** Milliseconds on the proxy's clock (performance.now) when the request arrived and when its answer ended. */
  start: number;
  end: number;
  action: ProxyAction['kind'];
  /** Response body bytes sent to the client. */
  bytesOut: number;
}

export interface RequestStats {
  requests: number;
  roundTrips: number;
  /** e.g. { HEAD: 2, PUT: 3 } */
  byMethod: Record<string, number>;
}

export interface LoopbackProxy {
  /** `127.0.0.1:PORT` */
  host: string;
  /** `http://127.0.0.1:PORT` (`https://` with `tls`) */
  url: string;
  /** Added before each request is handled; may be changed between runs. */
  latencyMs: number;
  onRequest: RequestHook | undefined;
  /** With `tls`: the first bytes of each connection that spoke plain HTTP to the TLS port (headers included). */
  readonly plaintext: string[];
  /** Completed requests, in order of completion. */
  readonly log: readonly RequestRecord[];
  /** Clear the log and the attempt counters (between measured runs). */
  reset(): void;
  /** Counts over the log so far. */
  stats(): RequestStats;
  /** Settles once no request is in flight (bounded by `timeoutMs`). */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartProxyOptions {
  /** `host:port` of the registry. */
  target: string;
  latencyMs?: number;
  onRequest?: RequestHook;
  /**
   * HTTPS in front of a TLS registry: the proxy serves this certificate and checks the registry's against
   * `upstreamCaFile`. `url` is then `https://…`.
   */
  tls?: { certFile: string; keyFile: string; upstreamCaFile: string };
}

/**
 * The longest chain of requests where each starts after the previous one ended: the number of sequential round
 * trips a client needed. Overlapping requests (sent in parallel) count once. O(n²), fine for test-sized logs.
 */
export function sequentialRoundTrips(log: readonly Pick<RequestRecord, 'start' | 'end'>[]): number {
  const sorted = [...log].sort((a, b) => a.end - b.end);
  const chain: number[] = [];
  let best = 0;
  for (let i = 0; i < sorted.length; i++) {
    let before = 0;
    for (let j = 0; j < i; j++) if (sorted[j]!.end <= sorted[i]!.start) before = Math.max(before, chain[j]!);
    chain.push(before + 1);
    best = Math.max(best, before + 1);
  }
  return best;
}

export function requestStats(log: readonly RequestRecord[]): RequestStats {
  const byMethod: Record<string, number> = {};
  for (const r of log) byMethod[r.method] = (byMethod[r.method] ?? 0) + 1;
  return { requests: log.length, roundTrips: sequentialRoundTrips(log), byMethod };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

export async function startProxy(options: StartProxyOptions): Promise<LoopbackProxy> {
  const [targetHost, targetPort] = splitHost(options.target);
  const tls = options.tls;
  const agent = tls === undefined
    ? new Agent({ keepAlive: true, maxSockets: 64 })
    : new HttpsAgent({ keepAlive: true, maxSockets: 64, ca: readFileSync(tls.upstreamCaFile) });
  const upstreamRequest = tls === undefined ? httpRequest : httpsRequest;
  const log: RequestRecord[] = [];
  const attempts = new Map<string, number>();
  const sockets = new Set<Socket>();
  let nextId = 0;
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];

  const proxy: LoopbackProxy = {
    host: '',
    url: '',
    latencyMs: options.latencyMs ?? 0,
    onRequest: options.onRequest,
    plaintext: [],
    log,
    reset() {
      log.length = 0;
      attempts.clear();
    },
    stats: () => requestStats(log),
    async idle(timeoutMs = 10_000) {
      if (inFlight === 0) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`proxy: ${inFlight} request(s) still in flight after ${timeoutMs} ms`)), timeoutMs);
        idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const finished = (record: RequestRecord): void => {
    record.end = performance.now();
    log.push(record);
    inFlight--;
    if (inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) wake();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const start = performance.now();
    inFlight++;
    const path = req.url ?? '/';
    const key = `${req.method} ${path.split('?')[0]}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    let requestBody: Promise<Buffer> | undefined;
    const info: ProxyRequest = {
      id: ++nextId, method: req.method ?? 'GET', path, headers: req.headers, attempt,
      body: () => (requestBody ??= readAll(req)),
    };
    const record: RequestRecord = { id: info.id, method: info.method, path, status: 0, start, end: start, action: 'forward', bytesOut: 0 };
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      record.status = res.headersSent ? res.statusCode : 0;
      finished(record);
    };
    res.on('close', finish);

    let action: ProxyAction;
    try {
      action = (await proxy.onRequest?.(info)) ?? { kind: 'forward' };
    } catch (err) {
      action = { kind: 'respond', status: 599, body: `proxy hook failed: ${(err as Error).message}` };
    }
    record.action = action.kind;
    const delay = proxy.latencyMs + (action.kind === 'forward' ? (action.delayMs ?? 0) : 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    apply(action, req, res, record, requestBody);
  };

  const apply = (action: ProxyAction, req: IncomingMessage, res: ServerResponse, record: RequestRecord, requestBody?: Promise<Buffer>): void => {
    switch (action.kind) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'respond': {
        req.resume();
        const body = action.body === undefined ? Buffer.alloc(0) : Buffer.from(action.body);
        res.writeHead(action.status, { 'content-length': String(body.length), ...action.headers });
        record.bytesOut = body.length;
        res.end(body);
        return;
      }
      case 'forward':
        forward(req, res, record, action, requestBody);
        return;
      default: {
        const unknown: never = action;
        throw new Error(`proxy: unknown action ${JSON.stringify(unknown)}`);
      }
    }
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    record: RequestRecord,
    action: ProxyAction & { kind: 'forward' },
    requestBody: Promise<Buffer> | undefined,
  ): void => {
    const truncateAt = action.truncateResponseAt;
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    const upstream = upstreamRequest({ host: targetHost, port: targetPort, method: req.method, path: action.path ?? req.url, headers, agent }, (answer) => {
      const out: IncomingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
      action.rewriteHeaders?.(out);
      res.writeHead(action.status ?? answer.statusCode ?? 502, out as Record<string, string | string[]>);
      answer.on('data', (data: Buffer) => {
        const chunk = action.mutateBody === undefined ? data : action.mutateBody(Buffer.from(data), record.bytesOut);
        if (truncateAt !== undefined && record.bytesOut + chunk.length >= truncateAt) {
          // Drop the connection once the bytes before the cut are on the wire (destroying at once could discard
          // them, and the headers with them).
          const socket = res.socket;
          res.write(chunk.subarray(0, truncateAt - record.bytesOut), () => socket?.destroy());
          record.bytesOut = truncateAt;
          answer.destroy();
          return;
        }
        record.bytesOut += chunk.length;
        if (!res.write(chunk)) {
          answer.pause();
          res.once('drain', () => answer.resume());
        }
      });
      answer.on('end', () => res.end());
      answer.on('error', () => res.socket?.destroy());
    });
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-length': '0' });
        res.end();
      } else {
        res.socket?.destroy();
      }
    });
    if (requestBody === undefined) req.pipe(upstream);
    else requestBody.then((bytes) => upstream.end(bytes), () => upstream.destroy());
    req.on('aborted', () => upstream.destroy());
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res);
  };
  const httpServer = tls === undefined
    ? createServer(listener)
    : createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, listener);
  httpServer.keepAliveTimeout = 30_000;
  // With TLS, a front that looks at the first byte: a TLS handshake goes on to the HTTPS server, anything else is
  // a client speaking plain HTTP to the TLS port, recorded (with what it sent) and refused.
  const server = tls === undefined ? httpServer : createNetServer((socket) => {
    socket.once('readable', () => {
      const first = socket.read() as Buffer | null;
      if (first === null) {
        socket.destroy();
        return;
      }
      socket.unshift(first);
      if (first[0] === 0x16) {
        httpServer.emit('connection', socket);
        return;
      }
      proxy.plaintext.push(first.toString('latin1'));
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  proxy.host = `127.0.0.1:${port}`;
  proxy.url = `${tls === undefined ? 'http' : 'https'}://${proxy.host}`;
  return proxy;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function splitHost(hostPort: string): [string, number] {
  const colon = hostPort.lastIndexOf(':');
  if (colon < 0) return [hostPort, 80];
  return [hostPort.slice(0, colon).replace(/^\[|\]$/g, ''), Number(hostPort.slice(colon + 1))];
}
