import { Code, isOciError, OciError } from '../errors.js';

/**
 * How a cancelled registry operation ends: the command's signal (global --timeout, SIGINT, SIGTERM) becomes one
 * OciError saying what was being waited for, and a wait undici would only end later ends at once.
 */

/**
 * The error for an aborted operation: an OciError reason passes through; a timeout signal becomes TIMEOUT;
 * anything else (SIGINT, SIGTERM) becomes INTERRUPTED.
 */
export function abortError(signal: AbortSignal, what: string): OciError {
  const reason: unknown = signal.reason;
  // The command's deadline: say what was being waited for, and where.
  if (isOciError(reason, Code.Timeout)) {
    return new OciError('TIMEOUT', `${reason.message} during ${what}`, { kind: reason.kind, hint: reason.hint, cause: reason });
  }
  if (reason instanceof OciError) return reason;
  if ((reason as Error | undefined)?.name === 'TimeoutError') {
    return new OciError('TIMEOUT', `timed out during ${what}`, { hint: 'raise --timeout or check the network', cause: reason });
  }
  return new OciError('INTERRUPTED', `interrupted during ${what}`, { kind: 'interrupted', cause: reason });
}

/** `work`, or the abort error as soon as `signal` aborts (undici may settle `work` much later). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => Error): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}
