import { isLoopback } from '../ref/host.js';
import { abortError, untilAborted } from './abort.js';

/**
 * Which scheme a registry speaks. HTTPS always; plain HTTP only where Docker allows it (loopback hosts and
 * --insecure), learned from the first exchange with the host (a failed TLS handshake, or an answer) and then
 * remembered in the run's registry cache (registry-cache.ts), so another run in the same process learns it afresh.
 */

export type Scheme = 'https' | 'http';

/** The schemes one run has learned, and the probes finding them out. */
export class SchemeProbe {
  /** Scheme that worked per host, for hosts where plain HTTP is allowed. */
  private readonly schemes = new Map<string, Scheme>();
  /**
   * While a host's scheme is unknown, the first request finds it out and the others wait until it is known (at the
   * failed TLS handshake or the first answer, not the end of the exchange), so parallel first requests (push's two
   * HEADs) cost one failed handshake, not one each, and still overlap on the wire.
   */
  private readonly probes = new Map<string, { known: Promise<void>; settle(): void }>();

  /** Remember the scheme that worked for `key`, and let the requests waiting for the probe go. */
  learn(key: string, scheme: Scheme): void {
    this.schemes.set(key, scheme);
    this.probes.get(key)?.settle();
  }

  /** The scheme learned for `key`, if any. */
  known(key: string): Scheme | undefined {
    return this.schemes.get(key);
  }

  /**
   * Run `exchange` as the probe that finds out `key`'s scheme, or, while another request probes, wait until the
   * scheme is known and then run it (`what` names the request in the abort error).
   */
  async oneAtATime<T>(key: string, signal: AbortSignal | undefined, what: string, exchange: () => Promise<T>): Promise<T> {
    const pending = this.probes.get(key);
    if (pending !== undefined) {
      await untilAborted(pending.known, signal, () => abortError(signal!, what));
      return exchange();
    }
    let settle = (): void => undefined;
    const known = new Promise<void>((resolve) => (settle = resolve));
    this.probes.set(key, { known, settle });
    try {
      return await exchange();
    } finally {
      this.probes.delete(key);
      settle(); // also when the probe failed for another reason: the others then try for themselves
    }
  }
}

/** Plain HTTP is tried only where Docker would: loopback hosts and --insecure. */
export function mayUsePlainHttp(host: string, insecure: boolean | undefined): boolean {
  return !!insecure || isLoopback(host);
}

/** What a learned scheme is remembered under: the host, and whether --insecure allowed plain HTTP for it. */
export function schemeKey(host: string, insecure: boolean | undefined): string {
  return `${host}|${insecure ? 'insecure' : ''}`;
}
