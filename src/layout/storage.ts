import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ContentErrorCode } from '../errors.js';
import type { Descriptor, TransferOptions } from '../oci/types.js';
import { blobExists, openBlobStream, readBlobFile, storeBlobBytes, storeBlobHashing, storeBlobStream } from './blobs.js';
import { readIndex, writeIndex, type LayoutIndex } from './index-file.js';
import { withLock, type LockOptions } from './lock.js';
import { LOCK_FILE } from './paths.js';

/**
 * Where an OCI image layout's index.json and blobs live: a directory (below), or one tar file (bundle-storage.ts).
 * LayoutRepository speaks the OCI layout through this and never touches files itself.
 */
export interface LayoutStorage {
  /** The directory or file, as messages name it. */
  readonly location: string;
  readIndex(): Promise<LayoutIndex>;
  /** Read-modify-write of index.json; `edit` returns the new entry list, or undefined for no change. */
  updateIndex(edit: (index: LayoutIndex) => Promise<Descriptor[] | undefined>, signal?: AbortSignal): Promise<void>;
  blobExists(digest: string): Promise<boolean>;
  /** A whole blob, refused over `maxBytes` (OciError `tooLargeCode`); undefined when absent. Not verified. */
  readBlob(digest: string, maxBytes: number, tooLargeCode: ContentErrorCode): Promise<Buffer | undefined>;
  /** A stream verified against the descriptor (fails instead of ending when the bytes are wrong). */
  openBlob(descriptor: Descriptor, options?: TransferOptions): Promise<Readable>;
  storeBlobBytes(digest: string, bytes: Buffer): Promise<void>;
  storeBlobStream(descriptor: Descriptor, source: Readable, options?: TransferOptions): Promise<void>;
  storeBlobHashing(mediaType: string, source: Readable, options?: TransferOptions): Promise<Descriptor>;
  /** Make the writes so far visible, where they are held until the end (a bundle); see Repository.commit. */
  commit?(): Promise<void>;
  close(): Promise<void>;
}

/** A layout directory: every write lands at once (blobs renamed into place, index.json under a lock file). */
export class DirectoryStorage implements LayoutStorage {
  constructor(readonly location: string, private readonly lock: Pick<LockOptions, 'timeoutMs' | 'staleMs'> = {}) {}

  readIndex(): Promise<LayoutIndex> {
    return readIndex(this.location);
  }

  async updateIndex(edit: (index: LayoutIndex) => Promise<Descriptor[] | undefined>, signal?: AbortSignal): Promise<void> {
    await withLock(join(this.location, LOCK_FILE), async () => {
      const index = await readIndex(this.location);
      const manifests = await edit(index);
      if (manifests !== undefined) await writeIndex(this.location, { ...index, manifests });
    }, { ...this.lock, signal });
  }

  blobExists(digest: string): Promise<boolean> {
    return blobExists(this.location, digest);
  }

  readBlob(digest: string, maxBytes: number, tooLargeCode: ContentErrorCode): Promise<Buffer | undefined> {
    return readBlobFile(this.location, digest, maxBytes, tooLargeCode);
  }

  openBlob(descriptor: Descriptor, options?: TransferOptions): Promise<Readable> {
    return openBlobStream(this.location, descriptor, options);
  }

  storeBlobBytes(digest: string, bytes: Buffer): Promise<void> {
    return storeBlobBytes(this.location, digest, bytes);
  }

  storeBlobStream(descriptor: Descriptor, source: Readable, options?: TransferOptions): Promise<void> {
    return storeBlobStream(this.location, descriptor, source, options);
  }

  storeBlobHashing(mediaType: string, source: Readable, options?: TransferOptions): Promise<Descriptor> {
    return storeBlobHashing(this.location, mediaType, source, options);
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }
}
