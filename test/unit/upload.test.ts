import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OciError } from '../../src/errors.js';
import type { HttpRequest, HttpResponse } from '../../src/registry/http.js';
import { retryPolicy } from '../../src/registry/retry-policy.js';
import { uploadChunked, type UploadContext } from '../../src/registry/upload.js';

/**
 * The streamed upload PATCHes one chunk while the next one fills, never more than one at a time, and a failed
 * PATCH stops the reading. The registry side is a recording `send` (the wire protocol is covered against the real
 * registry in test/integration/registry-client.test.ts); timing is what is checked here.
 */
const CHUNK = 64 * 1024;

interface Sent {
  method: string;
  range?: string;
  digest?: string;
  body: Buffer;
  /** Source bytes read when the request was sent, and when its answer came. */
  readAtStart: number;
  readAtEnd: number;
}

function answer(status: number, location?: string): HttpResponse {
  return { status, headers: location === undefined ? {} : { location }, body: Readable.from([]), url: 'http://registry.test/v2/app/blobs/uploads/1' };
}

/**
 * A source of `pieces` 16 KiB pieces (deterministic bytes) that counts what was read, and whether it was destroyed.
 * Its own buffer is one piece on every Node (Node 22 raised the default to 64 KiB), so what it reads ahead is the
 * uploader's doing.
 */
function countingSource(pieces: number): { source: Readable; read: () => number; bytes: Buffer } {
  const bytes = Buffer.alloc(pieces * 16 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 12)) & 0xff;
  let read = 0;
  const source = new Readable({
    highWaterMark: 16 * 1024,
    read() {
      if (read >= bytes.length) {
        this.push(null);
        return;
      }
      const piece = bytes.subarray(read, read + 16 * 1024);
      read += piece.length;
      setImmediate(() => this.push(piece));
    },
  });
  return { source, read: () => read, bytes };
}

/** `bodies` receives each request's body itself (not a copy), to see which memory it was sent from. */
function context(sent: Sent[], read: () => number, patchAnswer: (index: number) => number, bodies: Buffer[] = []): UploadContext {
  let patches = 0;
  let inFlight = 0;
  return {
    host: 'registry.test',
    repository: 'app',
    chunkSize: CHUNK,
    retry: retryPolicy({ retries: 0 }),
    async send(req: HttpRequest): Promise<HttpResponse> {
      if (req.method === 'POST') return answer(202, '/v2/app/blobs/uploads/1');
      const url = new URL(req.url);
      const entry: Sent = {
        method: req.method,
        range: req.headers?.['content-range'],
        digest: url.searchParams.get('digest') ?? undefined,
        body: Buffer.from(req.body ?? Buffer.alloc(0)), // a copy: the uploader reuses its chunk buffers
        readAtStart: read(),
        readAtEnd: -1,
      };
      sent.push(entry);
      bodies.push(req.body as Buffer);
      expect(++inFlight).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 30));
      entry.readAtEnd = read();
      // A chunk buffer is refilled only once its request was answered.
      expect(Buffer.from(req.body ?? Buffer.alloc(0)).equals(entry.body), `${req.method} ${entry.range ?? ''} changed while in flight`).toBe(true);
      inFlight--;
      if (req.method === 'PATCH') return answer(patchAnswer(patches++), '/v2/app/blobs/uploads/1');
      return answer(201);
    },
  };
}

describe('uploadChunked (pipelined chunks)', () => {
  it('reads on while a chunk is PATCHed, one PATCH at a time, and sends every byte in order', async () => {
    const { source, read, bytes } = countingSource(20); // 320 KiB: 4 full chunks, then 64 KiB more
    const sent: Sent[] = [];
    const result = await uploadChunked(context(sent, read, () => 202), source, 'layer');

    expect(result).toEqual({ digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length });
    expect(sent.map((s) => s.method)).toEqual(['PATCH', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
    expect(sent.slice(0, 4).map((s) => s.range)).toEqual([0, 1, 2, 3].map((i) => `${i * CHUNK}-${(i + 1) * CHUNK - 1}`));
    expect(sent[4]!.digest).toBe(result.digest);
    expect(Buffer.concat(sent.map((s) => s.body)).equals(bytes)).toBe(true);
    // While the first PATCH was in flight, the next chunk was being read.
    expect(sent[0]!.readAtEnd - sent[0]!.readAtStart).toBeGreaterThanOrEqual(CHUNK / 2);
  });

  it('sends a handed-over head as whole chunks without copying, then reuses its memory as the chunk buffers', async () => {
    const { source, read, bytes } = countingSource(10); // 160 KiB after the head
    const head = Buffer.alloc(3 * CHUNK + 1000);
    for (let i = 0; i < head.length; i++) head[i] = (i * 7 + (i >> 10)) & 0xff;
    const whole = Buffer.concat([head, bytes]); // before the upload: the head's bytes are overwritten as it goes
    const sent: Sent[] = [];
    const bodies: Buffer[] = [];
    const result = await uploadChunked(context(sent, read, () => 202, bodies), source, 'layer', undefined, head);

    expect(result).toEqual({ digest: `sha256:${createHash('sha256').update(whole).digest('hex')}`, size: whole.length });
    expect(sent.map((s) => s.method)).toEqual(['PATCH', 'PATCH', 'PATCH', 'PATCH', 'PATCH', 'PUT']); // 353 KiB + 1000 B in 64 KiB chunks
    expect(Buffer.concat(sent.map((s) => s.body)).equals(whole)).toBe(true);
    // Every chunk went from the head's memory: its three whole chunks as they were, the rest through its last two.
    expect(bodies.every((b) => b.buffer === head.buffer)).toBe(true);
    expect(bodies.slice(0, 3).map((b) => b.byteOffset - head.byteOffset)).toEqual([0, CHUNK, 2 * CHUNK]);
  });

  it('stops reading the source once a PATCH fails', async () => {
    const { source, read, bytes } = countingSource(64); // 1 MiB: 16 chunks
    const sent: Sent[] = [];
    const upload = uploadChunked(context(sent, read, (i) => (i === 1 ? 400 : 202)), source, 'layer');

    await expect(upload).rejects.toBeInstanceOf(OciError);
    expect(sent.filter((s) => s.method === 'PATCH')).toHaveLength(2);
    expect(source.destroyed).toBe(true);
    expect(read()).toBeLessThanOrEqual(4 * CHUNK + 16 * 1024); // two chunks sent, at most the next two read
    expect(read()).toBeLessThan(bytes.length);
  });
});
