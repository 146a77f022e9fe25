import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { digestOf, HashingStream, parseDigest, shortDigest, verifyBytes, VerifyingStream } from '../../src/ref/digest.js';

const sink = () => new Writable({ write: (_c, _e, done) => done() });

describe('digest', () => {
  const data = Buffer.from('hello world');
  const digest = digestOf(data);

  it('hashes like sha256sum', () => {
    expect(digest).toBe('sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    expect(parseDigest(digest).hex).toHaveLength(64);
  });

  it('verifies bytes and names the mismatch', () => {
    expect(() => verifyBytes(data, digest, data.length)).not.toThrow();
    expect(() => verifyBytes(Buffer.from('hello worlD'), digest)).toThrow(/digest mismatch/);
    expect(() => verifyBytes(data, digest, 3)).toThrow(/11 bytes, expected 3/);
  });

  it('VerifyingStream passes good data and fails bad data at the end', async () => {
    await expect(pipeline(Readable.from([data]), new VerifyingStream(digest, data.length), sink())).resolves.toBeUndefined();
    await expect(pipeline(Readable.from([Buffer.from('hello worlD')]), new VerifyingStream(digest, 11), sink())).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(pipeline(Readable.from([data]), new VerifyingStream(digest, 5), sink())).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
    await expect(pipeline(Readable.from([data.subarray(0, 4)]), new VerifyingStream(digest, 11), sink())).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
  });

  it('HashingStream learns digest and size', async () => {
    const hashing = new HashingStream();
    await pipeline(Readable.from([data.subarray(0, 5), data.subarray(5)]), hashing, sink());
    expect(hashing.result()).toEqual({ digest, size: 11 });
  });
});

describe('shortDigest', () => {
  it('keeps the algorithm and 12 hex characters, and leaves short or odd strings whole', () => {
    expect(shortDigest(`sha256:${'0123456789abcdef'.repeat(4)}`)).toBe('sha256:0123456789ab…');
    expect(shortDigest(`sha256:${'a'.repeat(64)}`, 4)).toBe('sha256:aaaa…');
    expect(shortDigest('sha256:abc')).toBe('sha256:abc');
    expect(shortDigest('no-colon')).toBe('no-colon');
  });
});
