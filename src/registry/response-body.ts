import type { Readable } from 'node:stream';
import { OciError } from '../errors.js';
import { streamError } from './connection-errors.js';

/**
 * Reading response bodies with a bound: a registry (or whatever answers in its place) decides how much it sends,
 * so every body read whole is read up to a limit, and a body not wanted is let go without crashing the process.
 * A listing's JSON body is read here too.
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

/** The media type of a `Content-Type` header, without its parameters. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim();
  return type === '' ? undefined : type;
}

/** A listing's body (tags, referrers) is JSON up to this size; far beyond a page of any real registry. */
const MAX_LIST_BODY = 16 * 1024 * 1024;

/** The JSON body of a listing page from `host`; a body too large or not JSON is refused. */
export async function readJsonBody<T>(res: { body: Readable }, host: string, what: string, signal: AbortSignal | undefined): Promise<T> {
  let read: { bytes: Buffer; truncated: boolean };
  try {
    read = await readAtMost(res.body, MAX_LIST_BODY);
  } catch (err) {
    throw streamError(err, signal, what, host);
  }
  try {
    if (read.truncated) throw new Error('too large');
    return JSON.parse(read.bytes.toString('utf8')) as T;
  } catch {
    throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${host} answered ${what} with something that is not JSON`);
  }
}
