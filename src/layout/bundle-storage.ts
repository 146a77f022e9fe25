import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { END_OF_ARCHIVE, encodeTarHeader, padding } from '../artifact/tar-header.js';
import { isTrackedTempFile, removeTempFile, tempFileFor, trackTempFile, untrackTempFile, writeFileAtomic } from '../atomic-write.js';
import { OciError, type ContentErrorCode } from '../errors.js';
import type { Descriptor, TransferOptions } from '../oci/types.js';
import { HashingStream, VerifyingStream, parseDigest, verifyBytes } from '../ref/digest.js';
import { uploadProgress, verifiedBlobStream } from './blobs.js';
import { indexTarEntries, type TarEntry } from './bundle-tar.js';
import { parseIndex, type LayoutIndex } from './index-file.js';
import { INDEX_FILE, LAYOUT_FILE, LAYOUT_VERSION } from './paths.js';
import type { LayoutStorage } from './storage.js';

/**
 * An OCI image layout packed in one tar file: `oci-layout://release.tar` (or `.tar.gz`, `.tgz`), the bundle an
 * air-gapped transfer carries, and what skopeo's `oci-archive:` transport reads and writes.
 *
 * Reading a `.tar`: its headers are read once (bundle-tar.ts) and index.json and each blob are then read in place,
 * by offset; nothing is unpacked. A `.tar.gz` cannot be read by offset: it is inflated once, sequentially, into a
 * temporary `.tar` in the system temp directory (disk for the whole uncompressed bundle, one pass of gunzip), which
 * is then read in place and removed at close.
 *
 * Writing (opened with `create`): new blobs are appended, as they arrive, to a temporary tar beside the bundle
 * (a `.tar.gz`'s in the temp directory); index.json is kept in memory. `commit()` appends the blobs of the existing
 * bundle, then `oci-layout` and `index.json`, and renames the result over the bundle in one step (a `.tar.gz` is
 * compressed into a temporary file beside it first). Until then the bundle is untouched: a failure, Ctrl-C or a
 * close without commit removes the temporary files, and a bundle is never left half written. One writer at a time:
 * two processes writing the same bundle each replace it whole, the last one wins.
 *
 * Longer than 300 lines because the read side, the append side and commit share one open tar, one temporary file
 * and one in-memory index through their whole life; split apart they would pass that state between modules.
 */

const BUNDLE_NAME = /\.(tar|tar\.gz|tgz)$/i;

export function isBundlePath(path: string): boolean {
  return BUNDLE_NAME.test(path);
}

function isGzipPath(path: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(path);
}

interface TarFile {
  handle: FileHandle;
  path: string;
  entries: Map<string, TarEntry>;
}

export interface BundleOpenOptions {
  create: boolean;
  signal?: AbortSignal;
}

export async function openBundleStorage(location: string, options: BundleOpenOptions): Promise<BundleStorage> {
  const info = await stat(location).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (info === undefined) {
    if (!options.create) {
      throw new OciError('LAYOUT_NOT_FOUND', `OCI layout bundle ${location} does not exist`, {
        kind: 'usage',
        hint: 'check the path; copying to a path that does not exist creates the bundle',
      });
    }
    return new BundleStorage(location, undefined, { schemaVersion: 2, manifests: [] }, options);
  }
  if (!info.isFile()) throw invalid(location, 'it is not a file');
  const base = await openBase(location, info.size, options.signal);
  try {
    const layout = await readEntry(base, LAYOUT_FILE, 4096);
    if (layout === undefined) throw invalid(location, `it has no '${LAYOUT_FILE}' file`);
    let version: unknown;
    try {
      version = (JSON.parse(layout.toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch (err) {
      throw invalid(location, `its '${LAYOUT_FILE}' file is not JSON`, err);
    }
    if (version !== LAYOUT_VERSION) throw invalid(location, `its imageLayoutVersion is ${JSON.stringify(version)}, expected "${LAYOUT_VERSION}"`);
    const text = await readEntry(base, INDEX_FILE, 64 * 1024 * 1024);
    if (text === undefined) throw invalid(location, `it has no '${INDEX_FILE}' file`);
    return new BundleStorage(location, base, parseIndex(location, text.toString('utf8')), options);
  } catch (err) {
    await closeTar(base);
    throw err;
  }
}

/** The bundle as a tar file that can be read by offset: itself, or for a `.tar.gz` a temporary inflated copy. */
async function openBase(location: string, size: number, signal?: AbortSignal): Promise<TarFile> {
  let path = location;
  let fileSize = size;
  if (isGzipPath(location)) {
    path = tempFileFor(join(tmpdir(), `${basename(location)}.read`));
    trackTempFile(path);
    try {
      await pipeline(createReadStream(location), createGunzip(), createWriteStream(path, { flags: 'wx' }), { signal });
      fileSize = (await stat(path)).size;
    } catch (err) {
      await removeTempFile(path);
      if (err instanceof Error && 'code' in err && String(err.code).startsWith('Z_')) throw invalid(location, 'it is not gzip-compressed', err);
      throw err;
    }
  }
  const handle = await open(path, 'r');
  try {
    return { handle, path, entries: await indexTarEntries(handle, fileSize, location) };
  } catch (err) {
    await closeTar({ handle, path, entries: new Map() }, path !== location);
    throw err;
  }
}

async function closeTar(file: TarFile, temporary = isTrackedTempFile(file.path)): Promise<void> {
  await file.handle.close().catch(() => undefined);
  if (temporary) await removeTempFile(file.path);
}

async function readEntry(file: TarFile, name: string, maxBytes: number): Promise<Buffer | undefined> {
  const entry = file.entries.get(name);
  if (entry === undefined) return undefined;
  if (entry.size > maxBytes) throw new OciError('LAYOUT_INVALID', `${name} in the bundle is ${entry.size} bytes, more than ${maxBytes}`, { kind: 'usage' });
  const bytes = Buffer.alloc(entry.size);
  const { bytesRead } = await file.handle.read(bytes, 0, entry.size, entry.offset);
  if (bytesRead !== entry.size) throw new OciError('LAYOUT_INVALID', `${name} in the bundle ends early`, { kind: 'usage' });
  return bytes;
}

function blobName(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

function invalid(location: string, why: string, cause?: unknown): OciError {
  return new OciError('LAYOUT_INVALID', `${location} is not an OCI image layout bundle: ${why}`, {
    kind: 'usage',
    cause,
    hint: 'point to a .tar, .tar.gz or .tgz holding oci-layout, index.json and blobs/, or to a new path to create one',
  });
}

const HEADER = 512;

export class BundleStorage implements LayoutStorage {
  /** The tar being written (created at the first write), and where its next entry goes. */
  private out: (TarFile & { end: number }) | undefined;
  private changed = false;
  private committed = false;
  /** Appends go one at a time (one file); index edits one at a time (read-modify-write). */
  private appending: Promise<unknown> = Promise.resolve();
  private editing: Promise<unknown> = Promise.resolve();

  constructor(
    readonly location: string,
    private readonly base: TarFile | undefined,
    private index: LayoutIndex,
    private readonly options: BundleOpenOptions,
  ) {}

  async readIndex(): Promise<LayoutIndex> {
    return { ...this.index, manifests: [...this.index.manifests] };
  }

  updateIndex(edit: (index: LayoutIndex) => Promise<Descriptor[] | undefined>): Promise<void> {
    this.checkWritable();
    const run = this.editing.then(async () => {
      const manifests = await edit(await this.readIndex());
      if (manifests === undefined) return;
      this.index = { ...this.index, manifests };
      this.changed = true;
    });
    this.editing = run.catch(() => undefined);
    return run;
  }

  async blobExists(digest: string): Promise<boolean> {
    return this.find(digest) !== undefined;
  }

  async readBlob(digest: string, maxBytes: number, tooLargeCode: ContentErrorCode): Promise<Buffer | undefined> {
    const found = this.find(digest);
    if (found === undefined) return undefined;
    if (found.entry.size > maxBytes) {
      throw new OciError(tooLargeCode, `${digest} in the bundle ${this.location} is ${found.entry.size} bytes, more than the ${maxBytes} allowed`);
    }
    return readEntry(found.file, blobName(digest), maxBytes);
  }

  async openBlob(descriptor: Descriptor, options: TransferOptions = {}): Promise<Readable> {
    const found = this.find(descriptor.digest);
    if (found === undefined) throw new OciError('BLOB_UNKNOWN', `blob ${descriptor.digest} is not in the bundle ${this.location}`);
    const { offset, size } = found.entry;
    // An empty range cannot be expressed with start/end; the verifier still checks the digest of nothing.
    const file = size === 0 ? Readable.from([]) : found.file.handle.createReadStream({ start: offset, end: offset + size - 1, autoClose: false });
    return verifiedBlobStream(file, descriptor, options);
  }

  async storeBlobBytes(digest: string, bytes: Buffer): Promise<void> {
    verifyBytes(bytes, digest, undefined, 'blob');
    if (this.find(digest) !== undefined) return;
    await this.append(Readable.from([bytes]), () => digest);
  }

  async storeBlobStream(descriptor: Descriptor, source: Readable, options: TransferOptions = {}): Promise<void> {
    await this.append(source, () => descriptor.digest, [new VerifyingStream(descriptor.digest, descriptor.size), uploadProgress(options.onProgress, descriptor)], options.signal);
  }

  async storeBlobHashing(mediaType: string, source: Readable, options: TransferOptions = {}): Promise<Descriptor> {
    const hashing = new HashingStream();
    const size = await this.append(source, () => hashing.result().digest, [hashing], options.signal);
    const descriptor = { mediaType, digest: hashing.result().digest, size };
    options.onProgress?.({ direction: 'upload', digest: descriptor.digest, label: mediaType, bytes: size, total: size, done: true });
    return descriptor;
  }

  /**
   * Write the bundle: the new blobs are in the temporary tar already; the existing bundle's blobs, oci-layout and
   * index.json follow, then the end-of-archive blocks, and the file replaces the bundle.
   */
  async commit(): Promise<void> {
    this.checkWritable();
    await this.editing;
    await this.appending;
    if (!this.changed && this.base !== undefined) return;
    const out = await this.output();
    for (const [name, entry] of this.base?.entries ?? []) {
      if (!name.startsWith('blobs/') || out.entries.has(name)) continue;
      const { handle } = this.base as TarFile;
      const file = entry.size === 0 ? Readable.from([]) : handle.createReadStream({ start: entry.offset, end: entry.offset + entry.size - 1, autoClose: false });
      this.register(out, await this.writeEntry(out, file, () => name));
    }
    this.register(out, await this.writeEntry(out, Readable.from([Buffer.from(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }))]), () => LAYOUT_FILE));
    this.register(out, await this.writeEntry(out, Readable.from([Buffer.from(`${JSON.stringify(this.index)}\n`)]), () => INDEX_FILE));
    await out.handle.write(END_OF_ARCHIVE, 0, END_OF_ARCHIVE.length, out.end);
    await out.handle.truncate(out.end + END_OF_ARCHIVE.length);
    await out.handle.sync();
    await out.handle.close();
    if (isGzipPath(this.location)) {
      await writeFileAtomic(this.location, createReadStream(out.path), { through: [createGzip()], flush: true, signal: this.options.signal });
      await removeTempFile(out.path);
    } else {
      this.options.signal?.throwIfAborted();
      await rename(out.path, this.location);
      untrackTempFile(out.path);
    }
    this.out = undefined;
    this.committed = true;
  }

  /** Closes the files; anything written and not committed is removed. */
  async close(): Promise<void> {
    await this.appending.catch(() => undefined);
    if (this.out !== undefined) {
      await closeTar(this.out, true);
      this.out = undefined;
    }
    if (this.base !== undefined) await closeTar(this.base);
  }

  private checkWritable(): void {
    if (!this.options.create) {
      throw new OciError('LAYOUT_READ_ONLY', `the bundle ${this.location} is opened for reading only`, {
        kind: 'usage',
        hint: 'write a bundle with copy or push, which create it or replace it whole',
      });
    }
    if (this.committed) throw new OciError('LAYOUT_READ_ONLY', `the bundle ${this.location} was already written`);
  }

  private find(digest: string): { file: TarFile; entry: TarEntry } | undefined {
    const name = blobName(digest);
    const written = this.out?.entries.get(name);
    if (written !== undefined && this.out !== undefined) return { file: this.out, entry: written };
    const stored = this.base?.entries.get(name);
    return stored === undefined || this.base === undefined ? undefined : { file: this.base, entry: stored };
  }

  private async output(): Promise<TarFile & { end: number }> {
    if (this.out !== undefined) return this.out;
    const dir = isGzipPath(this.location) ? tmpdir() : dirname(this.location);
    const path = tempFileFor(join(dir, basename(this.location)));
    trackTempFile(path);
    const handle = await open(path, 'wx+');
    this.out = { handle, path, entries: new Map(), end: 0 };
    return this.out;
  }

  /**
   * Append one blob. A blob whose digest (known only at its end, when hashed) is there already is taken back,
   * so each blob is stored once. Returns its size.
   */
  private append(source: Readable, digest: () => string, through: NodeJS.ReadWriteStream[] = [], signal?: AbortSignal): Promise<number> {
    this.checkWritable();
    const run = this.appending.then(async () => {
      const out = await this.output();
      const start = out.end;
      try {
        const written = await this.writeEntry(out, source, () => blobName(digest()), through, signal);
        if (this.find(digest()) !== undefined) {
          out.end = start;
          await out.handle.truncate(start);
        } else {
          this.register(out, written);
          this.changed = true;
        }
        return written.size;
      } catch (err) {
        out.end = start;
        await out.handle.truncate(start).catch(() => undefined);
        throw err;
      }
    });
    this.appending = run.catch(() => undefined);
    return run;
  }

  private register(out: TarFile & { end: number }, written: { name: string; size: number; end: number }): void {
    out.entries.set(written.name, { offset: written.end - padding(written.size).length - written.size, size: written.size });
    out.end = written.end;
  }

  /**
   * Write one tar entry at the end of `out`: the content first, after room for its header, then the header, once
   * the size (and for a hashed blob the name) is known. Returns where the entry ends; the caller registers it.
   */
  private async writeEntry(out: TarFile & { end: number }, source: Readable, name: () => string, through: NodeJS.ReadWriteStream[] = [], signal?: AbortSignal): Promise<{ name: string; size: number; end: number }> {
    const start = out.end;
    let size = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const at = start + HEADER + size;
        size += chunk.length;
        out.handle.write(chunk, 0, chunk.length, at).then(() => done(), done);
      },
    });
    await (pipeline as (...streams: unknown[]) => Promise<void>)(source, ...through, sink, { signal });
    const entryName = name();
    const header = encodeTarHeader({ name: entryName, type: 'file', mode: 0o644, size });
    if (header.length !== HEADER) throw new OciError('INTERNAL', `tar entry name ${entryName} needs an extended header`);
    await out.handle.write(header, 0, HEADER, start);
    const pad = padding(size);
    if (pad.length > 0) await out.handle.write(pad, 0, pad.length, start + HEADER + size);
    return { name: entryName, size, end: start + HEADER + size + pad.length };
  }
}
