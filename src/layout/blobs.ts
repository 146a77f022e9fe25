import { mkdir, open, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { addAbortSignal, pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { stageFile, writeFileAtomic } from '../atomic-write.js';
import { OciError, type ContentErrorCode } from '../errors.js';
import { labelOf } from '../oci/progress-label.js';
import type { Descriptor, ProgressListener, TransferOptions, TransferProgress } from '../oci/types.js';
import { HashingStream, VerifyingStream, verifyBytes } from '../ref/digest.js';
import { blobDir, blobPath } from './paths.js';

/**
 * The `blobs/<alg>/<hex>` store of a layout. Nothing reaches its final name unverified: writes go to a temporary
 * file in the same directory and are renamed only once size and digest matched; reads are verified as they stream.
 */

export async function blobExists(root: string, digest: string): Promise<boolean> {
  const info = await stat(blobPath(root, digest)).catch(() => undefined);
  return info?.isFile() ?? false;
}

function blobUnknown(root: string, digest: string): OciError {
  return new OciError('BLOB_UNKNOWN', `blob ${digest} is not in the OCI layout ${root}`);
}

/** Read a whole blob file, refusing files over `maxBytes`; undefined when there is no such blob. Not verified. */
export async function readBlobFile(
  root: string,
  digest: string,
  maxBytes: number,
  tooLargeCode: ContentErrorCode,
): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(blobPath(root, digest), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) {
      throw new OciError(tooLargeCode, `${digest} in the OCI layout ${root} is ${size} bytes, more than the ${maxBytes} allowed`);
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** A stream of the blob's bytes that fails with DIGEST_MISMATCH / SIZE_MISMATCH instead of ending when they are wrong. */
export async function openBlobStream(root: string, descriptor: Descriptor, options: TransferOptions = {}): Promise<Readable> {
  let handle;
  try {
    handle = await open(blobPath(root, descriptor.digest), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw blobUnknown(root, descriptor.digest);
    throw err;
  }
  return verifiedBlobStream(handle.createReadStream(), descriptor, options);
}

/** The bytes of a stored blob, read from `file`, verified against `descriptor` and reported as a download. */
export function verifiedBlobStream(file: Readable, descriptor: Descriptor, options: TransferOptions = {}): Readable {
  if (options.signal) addAbortSignal(options.signal, file);
  const progress = progressTap(options.onProgress, known('download', descriptor));
  // Errors reach the consumer: pipeline destroys the last stream with them.
  return pipeline(file, new VerifyingStream(descriptor.digest, descriptor.size), progress, () => undefined);
}

/** A pass-through that reports an upload of `descriptor` (digest known) as its bytes go by. */
export function uploadProgress(listener: ProgressListener | undefined, descriptor: Descriptor): Transform {
  return progressTap(listener, known('upload', descriptor));
}

/** Store bytes already in memory under `digest`, after checking them. */
export async function storeBlobBytes(root: string, digest: string, bytes: Buffer, size?: number): Promise<void> {
  verifyBytes(bytes, digest, size, 'blob');
  const target = blobPath(root, digest);
  await mkdir(dirname(target), { recursive: true });
  await writeFileAtomic(target, bytes, { flush: true });
}

/** Store a stream whose digest is known: verified while written, renamed into place only when it matched. */
export async function storeBlobStream(
  root: string,
  descriptor: Descriptor,
  source: Readable,
  options: TransferOptions = {},
): Promise<void> {
  const target = blobPath(root, descriptor.digest);
  await mkdir(dirname(target), { recursive: true });
  await writeFileAtomic(target, source, {
    through: [new VerifyingStream(descriptor.digest, descriptor.size), progressTap(options.onProgress, known('upload', descriptor))],
    flush: true,
    signal: options.signal,
  });
}

/** Store a stream whose digest is learnt at its end (sha256, single pass). */
export async function storeBlobHashing(
  root: string,
  mediaType: string,
  source: Readable,
  options: TransferOptions = {},
): Promise<Descriptor> {
  const dir = blobDir(root, 'sha256');
  await mkdir(dir, { recursive: true });
  const hashing = new HashingStream();
  const staged = await stageFile(join(dir, 'blob'), source, {
    // the digest is not known yet: the final event below carries it
    through: [hashing, progressTap(options.onProgress, { direction: 'upload', label: mediaType }, false)],
    flush: true,
    signal: options.signal,
  });
  try {
    const { digest, size } = hashing.result();
    await staged.replace(blobPath(root, digest));
    options.onProgress?.({ ...known('upload', { mediaType, digest, size }), bytes: size, done: true });
    return { mediaType, digest, size };
  } catch (err) {
    await staged.discard();
    throw err;
  }
}

function known(direction: 'upload' | 'download', descriptor: Descriptor): ProgressBase {
  return { direction, digest: descriptor.digest, label: labelOf(descriptor), total: descriptor.size };
}

type ProgressBase = Omit<TransferProgress, 'bytes' | 'done'>;

/** Pass-through that reports the bytes so far to `listener`, and `done` at a clean end when `reportDone`. */
function progressTap(listener: ProgressListener | undefined, base: ProgressBase, reportDone = true): Transform {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
      bytes += chunk.length;
      listener?.({ ...base, bytes });
      done(null, chunk);
    },
    flush(done: TransformCallback): void {
      if (reportDone) listener?.({ ...base, bytes, done: true });
      done();
    },
  });
}
