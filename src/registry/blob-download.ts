import { Readable } from 'node:stream';
import { OciError } from '../errors.js';
import { labelOf } from '../oci/progress-label.js';
import type { Descriptor, TransferOptions } from '../oci/types.js';
import { VerifyingStream } from '../ref/digest.js';
import { streamError } from './connection-errors.js';
import { blobUrl } from './distribution-urls.js';
import type { HttpResponse } from './http.js';
import { responseError } from './registry-errors.js';
import type { RepositorySession } from './repository-session.js';
import { discardBody } from './response-body.js';

/**
 * Reading blob content (distribution spec end-2 GET, redirects to storage followed): the one reader for pull, copy,
 * diff, inspect --files and signature payloads, verified against the descriptor's size and digest, and resumed
 * with `Range: bytes=N-` when the body breaks off.
 */

const PROGRESS_STEP = 256 * 1024;
/** A broken blob download is resumed while it makes progress, up to this many times in all. */
const MAX_BLOB_RESUMES = 32;
/** Resumptions in a row that may bring no new byte before the download gives up. */
const MAX_STALLED_RESUMES = 3;
/** The default bound of fetchBlob, which holds the whole blob in memory (configs, signature payloads). */
const DEFAULT_FETCH_MAX = 4 * 1024 * 1024;

/**
 * A stream of the blob verified against the descriptor's size and digest. A body that breaks off (connection
 * reset, short body) is resumed with `Range: bytes=N-`, or read again from the start where the registry ignores Range.
 */
export async function openBlob(session: RepositorySession, descriptor: Descriptor, signal: AbortSignal | undefined, onProgress?: TransferOptions['onProgress']): Promise<Readable> {
  const what = `blob ${session.name}@${descriptor.digest}`;
  const first = await blobResponse(session, descriptor, 0, what, signal);
  const verifier = new VerifyingStream(descriptor.digest, descriptor.size, `${what} from ${session.host}:`);
  let onBytes: ((received: number) => void) | undefined;
  if (onProgress !== undefined) {
    const label = labelOf(descriptor);
    let reported = 0;
    onBytes = (received) => {
      if (received - reported < PROGRESS_STEP) return;
      reported = received;
      onProgress({ direction: 'download', digest: descriptor.digest, label, bytes: received, total: descriptor.size });
    };
    verifier.on('end', () => onProgress({ direction: 'download', digest: descriptor.digest, label, bytes: verifier.bytes, total: descriptor.size, done: true }));
  }
  const source = Readable.from(blobBytes(session, descriptor, first, what, signal, onBytes), { objectMode: false });
  source.on('error', (err) => verifier.destroy(err));
  verifier.on('close', () => source.destroy());
  source.pipe(verifier);
  return verifier;
}

/** The whole blob in memory, for small blobs only (at most `maxBytes`, default 4 MiB). */
export async function fetchBlob(session: RepositorySession, descriptor: Descriptor, signal: AbortSignal | undefined, maxBytes = DEFAULT_FETCH_MAX): Promise<Buffer> {
  if (descriptor.size > maxBytes) {
    throw new OciError('BLOB_TOO_LARGE', `blob ${session.name}@${descriptor.digest} is ${descriptor.size} bytes, more than the ${maxBytes} allowed here`);
  }
  const stream = await openBlob(session, descriptor, signal);
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * GET the blob from `offset` (a Range request when resuming). `skip` is how much of the body was read already:
 * a registry that ignores Range answers 200 with the whole blob again.
 */
async function blobResponse(session: RepositorySession, descriptor: Descriptor, offset: number, what: string, signal: AbortSignal | undefined): Promise<{ res: HttpResponse; skip: number }> {
  const { host } = session;
  const res = await session.send({
    method: 'GET',
    url: blobUrl(session.name, descriptor.digest),
    headers: offset > 0 ? { range: `bytes=${offset}-` } : undefined,
    followRedirects: true,
    what,
    signal,
  }, session.pull);
  if (offset > 0 && res.status === 206) {
    const range = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec((res.headers['content-range'] ?? '').trim());
    if (range === null || Number(range[1]) !== offset) {
      discardBody(res.body);
      throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${host} answered the resumed download of ${what} from byte ${offset} with the range '${res.headers['content-range'] ?? ''}'`);
    }
    return { res, skip: 0 };
  }
  if (res.status !== 200) throw await responseError(res, host, what);
  const length = res.headers['content-length'];
  if (length !== undefined && Number(length) !== descriptor.size) {
    discardBody(res.body);
    throw new OciError('SIZE_MISMATCH', `registry ${host} serves ${what} with ${length} bytes, its descriptor states ${descriptor.size}`);
  }
  return { res, skip: offset };
}

/** The blob's bytes from `first` on, resuming after breaks: at most MAX_STALLED_RESUMES in a row without progress. */
async function* blobBytes(
  session: RepositorySession,
  descriptor: Descriptor,
  first: { res: HttpResponse; skip: number },
  what: string,
  signal: AbortSignal | undefined,
  onBytes?: (received: number) => void,
): AsyncGenerator<Buffer> {
  let current = first;
  let received = 0;
  let stalled = 0;
  for (let resumes = 0; ; resumes++) {
    const before = received;
    let skip = current.skip;
    let failure: unknown;
    try {
      for await (const chunk of current.res.body as AsyncIterable<Buffer>) {
        let data = chunk;
        if (skip > 0) {
          const n = Math.min(skip, data.length);
          skip -= n;
          data = data.subarray(n);
          if (data.length === 0) continue;
        }
        received += data.length;
        onBytes?.(received);
        yield data;
      }
      // All there (more than the size: the verifier refuses it), or a body that ended short without an error.
      if (received >= descriptor.size) return;
      failure = new Error(`the body ended after ${received} of ${descriptor.size} bytes`);
    } catch (err) {
      if (err instanceof OciError || signal?.aborted) throw streamError(err, signal, what, session.host);
      failure = err;
    } finally {
      discardBody(current.res.body);
    }
    stalled = received > before ? 0 : stalled + 1;
    if (stalled >= MAX_STALLED_RESUMES || resumes >= MAX_BLOB_RESUMES) throw streamError(failure, signal, what, session.host);
    current = await blobResponse(session, descriptor, received, what, signal);
  }
}
