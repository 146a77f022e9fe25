import { Readable } from 'node:stream';
import { Code, isOciError, OciError } from '../errors.js';
import { labelOf } from '../oci/progress-label.js';
import type { BlobBody, Descriptor, PushBlobResult, StreamPushOptions, TransferOptions } from '../oci/types.js';
import { verifyBytes } from '../ref/digest.js';
import { blobUrl } from './distribution-urls.js';
import { responseError } from './registry-errors.js';
import type { RepositorySession } from './repository-session.js';
import { readAtMost } from './response-body.js';
import type { RetryPolicy } from './retry-policy.js';
import { uploadChunked, uploadMonolithic, type UploadContext } from './upload.js';

/**
 * Pushing a blob: skipped when the registry has it (end-2 HEAD), else uploaded in one PUT when it is small and in
 * chunks otherwise (upload.ts), and started over once when the registry lost the upload session.
 */

/** How pushes to one repository are made: chunk size (and the size up to which a blob goes in one PUT) and retries. */
export interface PushSettings {
  chunkSize: number;
  retry: RetryPolicy;
}

/**
 * Whether the registry holds the blob (a HEAD with `scopes`). A "yes" that describes another thing (a proxy's or
 * captive portal's page) is refused, as it would make a push skip the upload.
 */
export async function blobExists(session: RepositorySession, digest: string, scopes: string[], signal: AbortSignal | undefined, size?: number): Promise<boolean> {
  const what = `blob ${session.name}@${digest}`;
  const res = await session.send({ method: 'HEAD', url: blobUrl(session.name, digest), what, signal }, scopes);
  res.body.resume();
  if (res.status === 200) {
    const served = res.headers['docker-content-digest'];
    const length = res.headers['content-length'];
    if ((served !== undefined && served !== digest) || (size !== undefined && length !== undefined && Number(length) !== size)) {
      throw new OciError('REGISTRY_RESPONSE_INVALID',
        `registry ${session.host} answered HEAD of ${what} with ${length ?? '?'} bytes${served ? ` of ${served}` : ''}, not that blob (${size ?? '?'} bytes)`,
        { hint: 'check that no proxy or captive portal answers in place of the registry' });
    }
    return true;
  }
  if (res.status === 404) return false;
  throw await responseError(res, session.host, what);
}

export async function pushBlob(session: RepositorySession, settings: PushSettings, descriptor: Descriptor, body: BlobBody, signal: AbortSignal | undefined, options: TransferOptions = {}): Promise<PushBlobResult> {
  // Push scope from the first request, so one token serves the HEAD and the upload.
  if (await blobExists(session, descriptor.digest, session.push, signal, descriptor.size)) {
    options.onProgress?.({ direction: 'upload', digest: descriptor.digest, label: labelOf(descriptor), bytes: descriptor.size, total: descriptor.size, done: true });
    return 'exists';
  }
  const ctx = uploadContext(session, settings, signal, options);
  const label = labelOf(descriptor);
  let whole: Buffer | undefined;
  if (descriptor.size <= settings.chunkSize) {
    whole = Buffer.isBuffer(body) ? body : await readAll(body.open(), descriptor.size);
    verifyBytes(whole, descriptor.digest, descriptor.size, 'blob to push');
  }
  // A session the registry cannot resume may hide a finished upload whose answer was lost: check, else start
  // over once (the body can be read again).
  for (let attempt = 0; ; attempt++) {
    try {
      if (whole !== undefined) {
        await uploadMonolithic(ctx, descriptor.digest, whole, label);
      } else {
        const source = Buffer.isBuffer(body) ? Readable.from([body]) : body.open();
        await uploadChunked(ctx, source, label, { digest: descriptor.digest, size: descriptor.size }).finally(() => source.destroy());
      }
      return 'uploaded';
    } catch (err) {
      if (attempt > 0 || !isOciError(err, Code.UploadResumeFailed)) throw err;
      if (await blobExists(session, descriptor.digest, session.push, signal, descriptor.size)) return 'uploaded';
    }
  }
}

/** Upload a stream whose digest and size are learned while sending; returns its descriptor. */
export async function pushBlobStream(session: RepositorySession, settings: PushSettings, mediaType: string, source: Readable, signal: AbortSignal | undefined, options: StreamPushOptions = {}): Promise<Descriptor> {
  const { digest, size } = await uploadChunked(uploadContext(session, settings, signal, options), source, mediaType, undefined, options.head);
  return { mediaType, digest, size };
}

function uploadContext(session: RepositorySession, settings: PushSettings, signal: AbortSignal | undefined, options: TransferOptions): UploadContext {
  return {
    send: (req) => session.send(req, session.push),
    host: session.host,
    repository: session.name,
    chunkSize: settings.chunkSize,
    retry: settings.retry,
    signal,
    onProgress: options.onProgress,
  };
}

async function readAll(stream: Readable, size: number): Promise<Buffer> {
  const { bytes, truncated } = await readAtMost(stream, size);
  if (truncated) throw new OciError('SIZE_MISMATCH', `the content to push is larger than the ${size} bytes its descriptor states`);
  return bytes;
}
