import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { OciError, usageError } from '../errors.js';

/** Digest parsing and hashing; a stream that checks size and digest at its end. */
export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
  digest: string;
}

const HEX_LENGTH = { sha256: 64, sha512: 128 } as const;

export function parseDigest(input: string): ParsedDigest {
  const colon = input.indexOf(':');
  if (colon < 0) throw usageError('DIGEST_INVALID', `digest '${input}' has no algorithm (expected sha256:<64 hex>)`);
  const algorithm = input.slice(0, colon);
  const hex = input.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw usageError('DIGEST_INVALID', `digest algorithm '${algorithm}' is not supported (expected sha256)`);
  }
  const want = HEX_LENGTH[algorithm];
  if (hex.length !== want || !/^[0-9a-f]+$/.test(hex)) {
    throw usageError('DIGEST_INVALID', `digest '${input}' must be ${algorithm}: followed by ${want} lower-case hex characters`);
  }
  return { algorithm, hex, digest: input };
}

export function isDigest(input: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(input) || /^sha512:[0-9a-f]{128}$/.test(input);
}

export function digestOf(data: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** `sha256:0123456789ab…` — enough to recognise, short enough for a table or a one-line reason. */
export function shortDigest(digest: string, hexChars = 12): string {
  const colon = digest.indexOf(':');
  if (colon < 0 || digest.length - colon - 1 <= hexChars) return digest;
  return `${digest.slice(0, colon + 1 + hexChars)}…`;
}

/** Throws DIGEST_MISMATCH unless `data` has `expected` as digest (and `size` bytes when given). */
export function verifyBytes(data: Buffer, expected: string, size?: number, what = 'content'): void {
  if (size !== undefined && data.length !== size) {
    throw new OciError('SIZE_MISMATCH', `${what} ${expected} is ${data.length} bytes, expected ${size}`);
  }
  const { algorithm } = parseDigest(expected);
  const actual = digestOf(data, algorithm);
  if (actual !== expected) {
    throw new OciError('DIGEST_MISMATCH', `${what} digest mismatch: expected ${expected}, got ${actual}`);
  }
}

/**
 * Pass-through that hashes and counts; fails the stream at the end when the digest or size differ, and as
 * soon as more bytes than `size` arrive (so a lying server cannot make us read forever).
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash;
  private received = 0;

  constructor(
    private readonly expected: string,
    private readonly size: number | undefined,
    private readonly what = 'blob',
  ) {
    super();
    this.hash = createHash(parseDigest(expected).algorithm);
  }

  get bytes(): number {
    return this.received;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.length;
    if (this.size !== undefined && this.received > this.size) {
      done(new OciError('SIZE_MISMATCH', `${this.what} ${this.expected} is larger than the ${this.size} bytes its descriptor states`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.size !== undefined && this.received !== this.size) {
      done(new OciError('SIZE_MISMATCH', `${this.what} ${this.expected} ended after ${this.received} of ${this.size} bytes`));
      return;
    }
    const actual = `${parseDigest(this.expected).algorithm}:${this.hash.digest('hex')}`;
    if (actual !== this.expected) {
      done(new OciError('DIGEST_MISMATCH', `${this.what} digest mismatch: expected ${this.expected}, got ${actual}`));
      return;
    }
    done();
  }
}

/** Pass-through that hashes (sha256) and counts what flows, for content whose digest is learnt at the end. */
export class HashingStream extends Transform {
  private readonly hash = createHash('sha256');
  private count = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.count += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }

  /** Valid once the stream has ended. */
  result(): { digest: string; size: number } {
    return { digest: `sha256:${this.hash.copy().digest('hex')}`, size: this.count };
  }
}
