import type { Readable } from 'node:stream';

/**
 * Reading response bodies with a bound: a registry (or whatever answers in its place) decides how much it sends,
 * so every body read whole is read up to a limit, and a body not wanted is let go without crashing the process.
 */

/**
 * Stop reading a response body we will not use. undici's body emits an 'error' (RequestAbortedError) when destroyed
 * before its end; with no listener that would crash the process instead of letting the caller's error through.
 */
export function discardBody(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** Read at most `max` bytes; `truncated` tells whether more were there (the rest is discarded). */
export async function readAtMost(body: Readable, max: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (size + buf.length > max) {
      parts.push(buf.subarray(0, max - size));
      discardBody(body);
      return { bytes: Buffer.concat(parts), truncated: true };
    }
    parts.push(buf);
    size += buf.length;
  }
  return { bytes: Buffer.concat(parts), truncated: false };
}
