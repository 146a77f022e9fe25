import { describe, expect, it } from 'vitest';
import { OciError } from '../../src/errors.js';
import { abortError, untilAborted } from '../../src/registry/abort.js';

describe('abortError', () => {
  it('tells a timeout from an interrupt, and passes an OciError reason through', () => {
    const timeout = new AbortController();
    timeout.abort(new DOMException('t', 'TimeoutError'));
    expect(abortError(timeout.signal, 'x')).toMatchObject({ code: 'TIMEOUT', kind: 'registry' });
    const sigint = new AbortController();
    sigint.abort();
    expect(abortError(sigint.signal, 'x')).toMatchObject({ code: 'INTERRUPTED', kind: 'interrupted' });
    const custom = new AbortController();
    const reason = new OciError('INTERRUPTED', 'SIGTERM', { kind: 'interrupted' });
    custom.abort(reason);
    expect(abortError(custom.signal, 'x')).toBe(reason);
  });
});

describe('untilAborted', () => {
  it('ends the wait as soon as the signal aborts, not when the work settles', async () => {
    const controller = new AbortController();
    const never = new Promise<never>(() => undefined);
    const waiting = untilAborted(never, controller.signal, () => abortError(controller.signal, 'the test'));
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'INTERRUPTED', message: 'interrupted during the test' });
  });
});
