import { setTimeout as sleep } from 'node:timers/promises';
import { OciError } from '../errors.js';
import { abortError } from './abort.js';

/**
 * The one retry policy, for whole requests (http.ts) and for upload chunks resumed at the offset the registry
 * holds (upload.ts): which answers and failures are worth another attempt, how many attempts, and how long to
 * wait between them (exponential backoff with jitter, or the registry's `Retry-After`).
 */

export interface RetryOptions {
  /** Retries after the first attempt (default 4). */
  retries?: number;
  /** First backoff delay (default 250 ms), doubled per attempt, with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Longest `Retry-After` honoured; longer values are cut to this (default 30 s). */
  maxRetryAfterMs?: number;
}

export type RetryPolicy = Required<RetryOptions>;

const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 };

/** Answers worth another attempt: timeouts, throttling and the server errors a proxy or a busy registry gives. */
const RETRY_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** The OciError code of a temporary connection failure (reset, broken body); see connection-errors.ts. */
export const TRANSIENT_ERROR = 'NETWORK_ERROR';

/** The defaults, with what the caller set. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return { ...DEFAULT_RETRY, ...stripUndefined(options) };
}

export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUS.has(status);
}

/** A failure worth another attempt: a connection that broke, not a refusal, a TLS or an HTTP error. */
export function isTransientFailure(err: unknown): boolean {
  return err instanceof OciError && err.code === TRANSIENT_ERROR;
}

/**
 * Whether a request may be repeated whole when nothing else is said: GET/HEAD/PUT/DELETE yes, POST/PATCH no
 * (a repeated PATCH could append its body twice; upload.ts resumes those itself).
 */
export function repeatableByDefault(method: string): boolean {
  return method !== 'PATCH' && method !== 'POST';
}

/**
 * Wait before attempt `attempt + 1`: exponential backoff with jitter, or the server's `Retry-After` (capped);
 * the command's signal (deadline, Ctrl-C) ends the wait at once.
 */
export async function pauseBeforeRetry(policy: RetryPolicy, attempt: number, retryAfter: string | undefined, signal: AbortSignal | undefined, what: string): Promise<void> {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  let delay = exp / 2 + (Math.random() * exp) / 2;
  const asked = parseRetryAfter(retryAfter);
  if (asked !== undefined) delay = Math.min(Math.max(asked, 0), policy.maxRetryAfterMs);
  try {
    await sleep(delay, undefined, signal ? { signal } : undefined);
  } catch {
    throw abortError(signal!, what);
  }
}

/** `Retry-After` in seconds or as an HTTP date -> milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
