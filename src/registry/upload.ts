import type { Readable } from 'node:stream';
import { Code, OciError } from '../errors.js';
import type { ProgressListener } from '../oci/types.js';
import { HashingStream } from '../ref/digest.js';
import { abortError } from './abort.js';
import { uploadCompletionUrl, uploadSessionUrl } from './distribution-urls.js';
import { handedOutUrl } from './handed-out-urls.js';
import type { HttpRequest, HttpResponse } from './http.js';
import { responseError } from './registry-errors.js';
import { isRetryableStatus, isTransientFailure, pauseBeforeRetry, type RetryPolicy } from './retry-policy.js';

/**
 * Blob uploads (OCI distribution spec, "pushing blobs"): POST opens a session, then either one PUT with the whole
 * body (small blobs: 2 requests) or PATCH chunks followed by a PUT `?digest=` carrying the last chunk. Chunks are
 * kept until the registry acknowledged them, so a broken PATCH resumes from the offset the registry reports.
 */
export interface UploadContext {
  /** Sends with push credentials for the repository. */
  send(req: HttpRequest): Promise<HttpResponse>;
  host: string;
  /** Repository name, for the URL and messages. */
  repository: string;
  chunkSize: number;
  /** The client's retry policy: `retries` is how many times one chunk is resumed after a broken connection or 5xx. */
  retry: RetryPolicy;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/**
 * Buffer of the hashing stream between the source and the chunk buffers. Pinned because Node 22 raised the
 * default from 16 to 64 KiB: the read-ahead past a failed PATCH, and the memory an upload holds, stay the same
 * on every Node.
 */
const HASHER_BUFFER = 16 * 1024;

/** Upload `body` whose digest is known, in one PUT. */
export async function uploadMonolithic(ctx: UploadContext, digest: string, body: Buffer, label: string): Promise<void> {
  const session = await openSession(ctx, digest);
  await new ChunkWriter(ctx, session, digest, label, body.length).write(body, digest);
  ctx.onProgress?.({ direction: 'upload', digest, label, bytes: body.length, total: body.length, done: true });
}

/**
 * Upload a stream in chunks. With `expected` (known digest and size) the registry checks the digest; without it
 * the digest is computed while sending. The source is copied into two reused chunk buffers: one is PATCHed while
 * the other fills, so producing the content (compression) goes on during each PATCH; memory stays at two chunks.
 * A source buffer that holds a whole chunk where a chunk starts is sent without the copy.
 */
export async function uploadChunked(
  ctx: UploadContext,
  source: Readable,
  label: string,
  expected?: { digest: string; size: number },
  /** Bytes before `source`, handed over: sent first, then its memory serves as the chunk buffers. */
  head?: Buffer,
): Promise<{ digest: string; size: number }> {
  const hasher = new HashingStream({ highWaterMark: HASHER_BUFFER });
  source.on('error', (err) => hasher.destroy(err));
  // The iteration below reports the error; this listener only keeps an early one from being "unhandled".
  hasher.on('error', () => {});
  let uploading: Promise<void> | undefined;

  try {
    const session = await openSession(ctx, expected?.digest ?? 'a streamed blob');
    if (head !== undefined) hasher.write(head);
    source.pipe(hasher); // read only once the registry accepted the upload
    const writer = new ChunkWriter(ctx, session, expected?.digest, label, expected?.size);
    const buffers = new ChunkBuffers(ctx.chunkSize, head);
    let full: Buffer | undefined; // sent only once more data shows it is not the last chunk (that one goes with the PUT)
    try {
      for await (const data of hasher as AsyncIterable<Buffer>) {
        for (let offset = 0; offset < data.length; ) {
          if (full !== undefined) {
            await uploading; // at most one chunk in flight, and its buffer is the next to fill
            uploading = writer.write(full);
            // A failed PATCH stops the reading at once instead of after the next chunk filled.
            uploading.catch((err: unknown) => hasher.destroy(err as Error));
            full = undefined;
          }
          if (buffers.isEmpty() && data.length - offset >= ctx.chunkSize) {
            // A whole chunk of the source (a held head): sent as it is, no copy. Read only, like every source
            // buffer: a stream's reader owns no right to write into what it was given.
            full = data.subarray(offset, offset + ctx.chunkSize);
            offset += ctx.chunkSize;
            continue;
          }
          offset = buffers.fill(data, offset);
          if (buffers.isFull()) full = buffers.swap();
        }
      }
      await uploading;
    } catch (err) {
      await uploading?.catch(() => undefined); // no PATCH may still run once this rejects
      if (err instanceof OciError) throw err;
      if (ctx.signal?.aborted) throw abortError(ctx.signal, `upload to ${ctx.repository} at ${ctx.host}`);
      throw new OciError('SOURCE_READ_FAILED', `reading the content to upload to ${ctx.host}/${ctx.repository} failed: ${(err as Error).message}`, { cause: err });
    }
    const { digest, size } = hasher.result();
    if (expected !== undefined && size !== expected.size) {
      throw new OciError('SIZE_MISMATCH', `blob ${expected.digest} produced ${size} bytes, its descriptor states ${expected.size}`);
    }
    await writer.write(full ?? buffers.filled(), expected?.digest ?? digest);
    ctx.onProgress?.({ direction: 'upload', digest, label, bytes: size, total: size, done: true });
    return { digest, size };
  } catch (err) {
    // Stop whatever produces the content (a tar+gzip pipeline, a file read) instead of leaving it paused.
    source.destroy();
    throw err;
  }
}

/**
 * Two chunk buffers, allocated on first use and then reused: one filling, the other full or being sent. A head
 * handed over lends them its last whole chunks: it is sent first, as whole chunks without copying, and the last
 * chunk sent is buffer 1, still in flight when filling starts in buffer 0 (sent, and waited for, before it).
 */
class ChunkBuffers {
  private readonly buffers: Buffer[] = [];
  private current = 0;
  private used = 0;

  constructor(private readonly size: number, head?: Buffer) {
    const chunks = head === undefined ? 0 : Math.floor(head.length / size);
    if (chunks >= 2) this.buffers[0] = head!.subarray((chunks - 2) * size, (chunks - 1) * size);
    if (chunks >= 1) this.buffers[1] = head!.subarray((chunks - 1) * size, chunks * size);
  }

  /** Copy from `data` at `offset` into the current buffer; returns the offset reached. */
  fill(data: Buffer, offset: number): number {
    this.buffers[this.current] ??= Buffer.allocUnsafe(this.size);
    const n = data.copy(this.buffers[this.current]!, this.used, offset, Math.min(data.length, offset + this.size - this.used));
    this.used += n;
    return offset + n;
  }

  isFull(): boolean {
    return this.used === this.size;
  }

  isEmpty(): boolean {
    return this.used === 0;
  }

  /** The full current buffer; filling goes on in the other one. */
  swap(): Buffer {
    const full = this.buffers[this.current]!;
    this.current = 1 - this.current;
    this.used = 0;
    return full;
  }

  /** What the current buffer holds. */
  filled(): Buffer {
    return (this.buffers[this.current] ?? Buffer.alloc(0)).subarray(0, this.used);
  }
}

async function openSession(ctx: UploadContext, what: string): Promise<string> {
  const req: HttpRequest = {
    method: 'POST',
    url: uploadSessionUrl(ctx.repository),
    idempotent: true,
    what: `upload of ${what} to ${ctx.repository}`,
    signal: ctx.signal,
  };
  const res = await ctx.send(req);
  if (res.status !== 202) throw await responseError(res, ctx.host, req.what);
  res.body.resume();
  return uploadLocation(ctx, res);
}

/** The next upload URL: may be relative, must stay on the registry (see handedOutUrl). */
function uploadLocation(ctx: { host: string; repository: string }, res: HttpResponse): string {
  const location = res.headers.location;
  if (location === undefined) {
    throw new OciError('UPLOAD_LOCATION_INVALID', `registry ${ctx.host} sent no upload location for ${ctx.repository}`);
  }
  return handedOutUrl(location, res, ctx.host, `the upload to ${ctx.repository}`);
}

/** Writes chunks at increasing offsets into one upload session, resuming after failures. */
class ChunkWriter {
  private offset = 0;

  constructor(
    private readonly ctx: UploadContext,
    private location: string,
    private readonly knownDigest: string | undefined,
    private readonly label: string,
    private readonly total: number | undefined,
  ) {}

  /** PATCH `chunk`, or with `finalDigest` PUT it and close the session. */
  async write(chunk: Buffer, finalDigest?: string): Promise<void> {
    const what = `upload of ${finalDigest ?? this.knownDigest ?? 'a streamed blob'} to ${this.ctx.repository}`;
    const start = this.offset;
    let sent = 0; // bytes of `chunk` the registry holds
    for (let resume = 0; ; resume++) {
      let failure: unknown;
      let retryAfter: string | undefined;
      try {
        const res = await this.ctx.send(this.request(chunk.subarray(sent), start + sent, finalDigest, what));
        const ok = finalDigest !== undefined ? res.status === 201 : res.status === 202;
        if (ok) {
          res.body.resume();
          if (finalDigest === undefined) this.location = uploadLocation(this.ctx, res);
          this.offset = start + chunk.length;
          if (finalDigest === undefined) {
            this.ctx.onProgress?.({ direction: 'upload', digest: this.knownDigest, label: this.label, bytes: this.offset, total: this.total });
          }
          return;
        }
        if (!isRetryableStatus(res.status)) throw await responseError(res, this.ctx.host, what);
        retryAfter = res.headers['retry-after'];
        failure = await responseError(res, this.ctx.host, what);
      } catch (err) {
        if (!isTransientFailure(err)) throw err;
        failure = err;
      }
      if (resume >= this.ctx.retry.retries) throw failure;
      await pauseBeforeRetry(this.ctx.retry, resume, retryAfter, this.ctx.signal, `${what} at ${this.ctx.host}`);
      sent = Math.min(Math.max((await this.committedBytes(what, failure)) - start, 0), chunk.length);
      if (sent === chunk.length && finalDigest === undefined) {
        this.offset = start + chunk.length; // the failed answer hid a success; the status gave the new location
        return;
      }
    }
  }

  private request(body: Buffer, at: number, finalDigest: string | undefined, what: string): HttpRequest {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (finalDigest === undefined) headers['content-range'] = `${at}-${at + body.length - 1}`;
    // end-6 PUT closes the session, end-5 PATCH adds a chunk at its location. Not retried blindly by the HTTP
    // layer: a replayed body could be appended twice. write() resumes instead.
    const request = { headers, body, what, signal: this.ctx.signal, idempotent: false };
    if (finalDigest !== undefined) return { ...request, method: 'PUT', url: uploadCompletionUrl(this.location, finalDigest) };
    return { ...request, method: 'PATCH', url: this.location };
  }

  /** Ask the session how many bytes it holds (end-13, `Range: 0-<last>`), and take its fresh location. */
  private async committedBytes(what: string, failure: unknown): Promise<number> {
    const res = await this.ctx.send({ method: 'GET', url: this.location, what: `status of the ${what}`, signal: this.ctx.signal });
    if (res.status === 404) {
      // Distribution refuses a session whose state no longer matches what it stored (a lost answer): start over.
      res.body.resume();
      throw new OciError(Code.UploadResumeFailed, `registry ${this.ctx.host} cannot resume the ${what} after a failed chunk`, {
        cause: failure,
        hint: 'run the command again',
      });
    }
    if (res.status !== 204 && res.status !== 200) throw await responseError(res, this.ctx.host, `status of the ${what}`);
    res.body.resume();
    if (res.headers.location !== undefined) this.location = uploadLocation(this.ctx, res);
    const match = /^0-(-?\d+)$/.exec((res.headers.range ?? '').trim());
    // Distribution answers `0-0` for an empty session (it clamps `size - 1` at 0): take it as nothing held, or
    // the resumed upload would skip the first byte and fail with DIGEST_INVALID.
    const end = match ? Number(match[1]) : -1;
    return end > 0 ? end + 1 : 0;
  }
}
