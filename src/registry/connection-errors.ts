import { OciError } from '../errors.js';
import { abortError } from './abort.js';
import { CONNECT_TIMEOUT_MS } from './connection-pool.js';
import { TRANSIENT_ERROR } from './retry-policy.js';

/**
 * A failed connection or a broken response body as one OciError: an unreachable registry, a connect timeout, a TLS
 * failure (with what to pass), or a temporary failure (TRANSIENT_ERROR, which the retry policy retries).
 */

/** Connection failures worth another attempt; refused connections and DNS failures are not (fail fast). */
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
/** What OpenSSL says when the peer answered a TLS hello with plain HTTP. */
const NOT_TLS_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);

/** The OciError for a request to `host` that got no answer; `clientCertificate`: whether --cert-file was given. */
export function connectionError(err: unknown, host: string, what: string, clientCertificate: boolean): OciError {
  const code = errorCode(err) ?? 'UNKNOWN';
  const message = (err as Error).message;
  if (UNREACHABLE_CODES.has(code)) {
    const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'host not found' : code;
    return new OciError('REGISTRY_UNREACHABLE', `cannot reach registry ${host} (${why}) for ${what}`, {
      cause: err,
      hint: 'check the registry address and port, and that the registry is running',
    });
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new OciError('CONNECT_TIMEOUT', `registry ${host} did not complete a connection within ${CONNECT_TIMEOUT_MS / 1000}s for ${what}`, {
      cause: err,
      hint: 'check the registry address and port (something there takes connections but does not answer); --timeout bounds the whole command',
    });
  }
  if (TRANSIENT_CODES.has(code)) {
    // A registry that requires a client certificate closes the connection right after the TLS handshake.
    const closed = (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') && !clientCertificate;
    return new OciError(TRANSIENT_ERROR, `connection to registry ${host} failed (${code}) for ${what}`, {
      cause: err,
      hint: closed ? 'if the registry requires a client certificate, pass --cert-file and --key-file' : undefined,
    });
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return new OciError('TLS_ERROR', `TLS connection to registry ${host} failed for ${what}: ${code}`, {
      cause: err,
      hint: 'pass --ca-file with the registry CA, or --insecure-registry for a registry you trust without verification',
    });
  }
  return new OciError(TRANSIENT_ERROR, `request to registry ${host} failed for ${what}: ${message}`, { cause: err });
}

/** Whether a TLS handshake failed because the peer answered with plain HTTP. */
export function answeredPlainHttp(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && NOT_TLS_CODES.has(code);
}

/** Map a failure seen while streaming a response body to an OciError. */
export function streamError(err: unknown, signal: AbortSignal | undefined, what: string, host: string): OciError {
  if (err instanceof OciError) return err;
  if (signal?.aborted) return abortError(signal, `${what} at ${host}`);
  return new OciError(TRANSIENT_ERROR, `connection to registry ${host} broke while reading ${what}: ${(err as Error).message}`, { cause: err });
}

/** The system or undici error code of a failure, or of its cause. */
export function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return undefined;
}
