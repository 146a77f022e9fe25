import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import type { Agent, buildConnector, Dispatcher, ProxyAgent } from 'undici';
import { OciError } from '../errors.js';
import { proxyFor } from './proxy-env.js';

/**
 * The only module that loads undici: one keep-alive pool per endpoint (origin, TLS settings and proxy), the TLS
 * files read once, a CONNECT tunnel through HTTPS_PROXY/HTTP_PROXY, and the connections still being made given
 * up when a request is aborted.
 */

type RequestFn = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
/** undici's connector as it is at run time: it returns the socket it starts (its typings say void). */
type ConnectFn = (options: buildConnector.Options, callback: (err: Error | null, socket: Socket | null) => void) => Socket;
type BuildConnector = (options: buildConnector.BuildOptions) => ConnectFn;

/**
 * undici's index also loads fetch, WebSocket, EventSource, caches and mocks: about 50 ms of CPU and 10 MiB on
 * every start of a command that talks to a registry (bench/, start-up). Only the Agent and its request() are used
 * here, so load just those two files; should a later undici move them, fall back to the index.
 */
/**
 * undici parses HTTP/1.1 with llhttp compiled to WebAssembly. V8 compiles it once with its baseline compiler
 * (Liftoff), then again with TurboFan on background threads: that second compile peaked at ~35 MiB of RSS
 * (1-file push: 104 MiB peak, 70 MiB without it; a 256 MiB push peaked during it) for parsing a few response
 * heads, which Liftoff's code does as well. Set before undici compiles the module, on its first connection.
 */
try {
  setFlagsFromString('--liftoff-only');
} catch {
  // a node that refuses the flag keeps its default compiler
}

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

export interface TlsOptions {
  /** Allow plain HTTP and unverified TLS certificates. */
  insecure?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** How long one connection (TCP and TLS handshake) may take; not retried, as a host that let it lapse will again. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A pool per endpoint, with the sockets it is still connecting. undici lets an aborted request go only once its
 * connection is made (up to the connect timeout), and a connecting socket keeps the process alive: an abort
 * destroys them (see `abandonConnects`).
 */
export interface Endpoint {
  dispatcher: Dispatcher;
  connecting: Set<Socket>;
}

const endpoints = new Map<string, Endpoint>();

/** The pool for `origin` with these TLS settings, made on first use. */
export function endpointFor(origin: string, tls: TlsOptions): Endpoint {
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
export function abandonConnects(endpoint: Endpoint): void {
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

/** Send one request on the endpoint's pool (undici's request(): the body is a stream the caller reads or drops). */
export function dispatch(endpoint: Endpoint, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return undici.request.call(endpoint.dispatcher, options);
}
