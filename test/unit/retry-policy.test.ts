import { describe, expect, it } from 'vitest';
import { OciError } from '../../src/errors.js';
import {
  isRetryableStatus, isTransientFailure, parseRetryAfter, pauseBeforeRetry, repeatableByDefault, retryPolicy, TRANSIENT_ERROR,
} from '../../src/registry/retry-policy.js';

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('what is retried', () => {
  it('retries timeouts, throttling and gateway errors, not client errors or 501', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) expect(isRetryableStatus(status), String(status)).toBe(true);
    for (const status of [200, 400, 401, 403, 404, 416, 501]) expect(isRetryableStatus(status), String(status)).toBe(false);
  });

  it('retries a broken connection only', () => {
    expect(isTransientFailure(new OciError(TRANSIENT_ERROR, 'reset'))).toBe(true);
    expect(isTransientFailure(new OciError('REGISTRY_UNREACHABLE', 'refused'))).toBe(false);
    expect(isTransientFailure(new Error('plain'))).toBe(false);
  });

  it('repeats a request whole unless its body could be applied twice', () => {
    expect(['GET', 'HEAD', 'PUT', 'DELETE'].every((m) => repeatableByDefault(m as 'GET'))).toBe(true);
    expect(repeatableByDefault('POST') || repeatableByDefault('PATCH')).toBe(false);
  });
});

describe('pauseBeforeRetry', () => {
  it('waits what Retry-After asks, capped by the policy', async () => {
    const policy = retryPolicy({ maxRetryAfterMs: 50 });
    const started = Date.now();
    await pauseBeforeRetry(policy, 0, '3600', undefined, 'the test');
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(45);
    expect(waited).toBeLessThan(2000);
  });

  it('ends the wait when the command is interrupted', async () => {
    const controller = new AbortController();
    const waiting = pauseBeforeRetry(retryPolicy({ baseDelayMs: 60_000, maxDelayMs: 60_000 }), 0, undefined, controller.signal, 'the test');
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'INTERRUPTED' });
  });

  it('keeps the defaults for options left undefined', () => {
    expect(retryPolicy({ retries: undefined, baseDelayMs: 10 })).toEqual({ retries: 4, baseDelayMs: 10, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 });
  });
});
