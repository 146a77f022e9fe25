import { resolve as resolvePath } from 'node:path';
import { Readable } from 'node:stream';
import { Code, isOciError, OciError } from '../errors.js';
import { MAX_MANIFEST_BYTES } from '../oci/mediatypes.js';
import type {
  BlobBody,
  Descriptor,
  FetchedManifest,
  PushBlobResult,
  Repository,
  StreamPushOptions,
  TransferOptions,
} from '../oci/types.js';
import { digestOf, parseDigest, verifyBytes } from '../ref/digest.js';
import { checkTag, type LayoutReference } from '../ref/reference.js';
import { isBundlePath, openBundleStorage } from './bundle-storage.js';
import { addUntagged, findDigest, findTagged, refName, removeDigest, setTag, tagsOf, type LayoutIndex } from './index-file.js';
import { prepareLayout } from './layout-dir.js';
import type { LockOptions } from './lock.js';
import { DirectoryStorage, type LayoutStorage } from './storage.js';
import { descriptorsIn, fallbackTag } from '../oci/referrers.js';
import { manifestFields, referrerDescriptor, sniffMediaType } from './referrers.js';

export interface LayoutOpenOptions {
  /** Create the layout when the path does not exist (or is an empty directory); for commands that write. */
  create?: boolean;
  /** Waiting for the index.json lock; see lock.ts for how stale locks are handled. */
  lock?: Pick<LockOptions, 'timeoutMs' | 'staleMs'>;
  /** The command's signal: a bundle being written is discarded, not committed, once it fires. */
  signal?: AbortSignal;
}

const DEFAULT_MAX_BLOB_BYTES = 4 * 1024 * 1024;

/**
 * A layout directory, or a bundle: one tar file (`.tar`, `.tar.gz`, `.tgz`) holding a layout, read in place and
 * written as a whole at `commit()` (bundle-storage.ts).
 */
export async function openLayoutRepository(ref: LayoutReference, options: LayoutOpenOptions = {}): Promise<LayoutRepository> {
  const root = resolvePath(ref.path);
  if (isBundlePath(ref.path)) {
    return new LayoutRepository(ref.path, root, await openBundleStorage(root, { create: options.create ?? false, signal: options.signal }));
  }
  await prepareLayout(root, options.create ?? false, options.lock ?? {});
  return new LayoutRepository(ref.path, root, new DirectoryStorage(root, options.lock ?? {}));
}

/**
 * An OCI image layout on disk as a Repository. index.json is read afresh by every call (other processes may
 * write it) and rewritten atomically under a lock file. Tags are the `org.opencontainers.image.ref.name`
 * annotation of index entries; when several entries carry the same tag (other tools can write that), the last
 * one wins. Replacing a tag or deleting a manifest only edits index.json: the blobs stay (no garbage collection).
 * A layout holds one representation of each manifest, so `accept` in getManifest has nothing to choose from and
 * is ignored; callers check the returned media type.
 */
export class LayoutRepository implements Repository {
  readonly displayName: string;

  /** `root` is the absolute path of the layout directory (or bundle file). */
  constructor(
    displayPath: string,
    readonly root: string,
    private readonly storage: LayoutStorage,
  ) {
    this.displayName = displayPath;
  }

  async getManifest(reference: string, options: { signal?: AbortSignal; accept?: readonly string[] } = {}): Promise<FetchedManifest> {
    options.signal?.throwIfAborted();
    const index = await this.storage.readIndex();
    const entry = lookup(index, reference);
    if (isDigestReference(reference)) {
      const bytes = await this.readManifest(reference, entry?.size, reference);
      return { bytes, digest: reference, mediaType: entry?.mediaType ?? sniffMediaType(manifestFields(bytes, `manifest ${reference}`)) };
    }
    if (entry === undefined) throw this.manifestUnknown(reference);
    const bytes = await this.readManifest(entry.digest, entry.size, reference);
    return { bytes, digest: entry.digest, mediaType: entry.mediaType };
  }

  async resolve(reference: string, options: { signal?: AbortSignal } = {}): Promise<Descriptor | undefined> {
    options.signal?.throwIfAborted();
    const entry = lookup(await this.storage.readIndex(), reference);
    if (entry !== undefined) return { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
    if (!isDigestReference(reference)) return undefined;
    // A manifest stored as a blob only (e.g. a child of an index): describe it from its bytes.
    try {
      const { bytes, digest, mediaType } = await this.getManifest(reference, options);
      return { mediaType, digest, size: bytes.length };
    } catch (err) {
      if (isOciError(err, Code.ManifestUnknown)) return undefined;
      throw err;
    }
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    options.signal?.throwIfAborted();
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new OciError('MANIFEST_TOO_LARGE', `manifest is ${bytes.length} bytes, more than the ${MAX_MANIFEST_BYTES} allowed`, { kind: 'usage' });
    }
    const byDigest = isDigestReference(reference);
    let digest: string;
    if (byDigest) {
      digest = parseDigest(reference).digest;
      verifyBytes(bytes, digest, undefined, 'manifest');
    } else {
      checkTag(reference);
      digest = digestOf(bytes);
    }
    manifestFields(bytes, `manifest ${digest}`); // refuse what is not a JSON manifest, as a registry would
    await this.storage.storeBlobBytes(digest, bytes);
    const target: Descriptor = { mediaType, digest, size: bytes.length };

    await this.updateIndex(async (index) => {
      if (byDigest) return addUntagged(index.manifests, target);
      const replaced = index.manifests.filter((e) => refName(e) === reference && e.digest !== digest);
      return setTag(index.manifests, target, reference, await this.withSubject(replaced));
    }, options.signal);
    return digest;
  }

  async deleteManifest(digest: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    parseDigest(digest);
    await this.updateIndex(async (index) => {
      if (findDigest(index.manifests, digest) === undefined) throw this.manifestUnknown(digest);
      return removeDigest(index.manifests, digest);
    }, options.signal);
  }

  async hasBlob(digest: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    options.signal?.throwIfAborted();
    return this.storage.blobExists(digest);
  }

  async openBlob(descriptor: Descriptor, options: TransferOptions = {}): Promise<Readable> {
    options.signal?.throwIfAborted();
    return this.storage.openBlob(descriptor, options);
  }

  async fetchBlob(descriptor: Descriptor, options: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<Buffer> {
    options.signal?.throwIfAborted();
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BLOB_BYTES;
    if (descriptor.size > maxBytes) {
      throw new OciError('BLOB_TOO_LARGE', `blob ${descriptor.digest} is ${descriptor.size} bytes, more than the ${maxBytes} allowed here`);
    }
    const bytes = await this.storage.readBlob(descriptor.digest, maxBytes, 'BLOB_TOO_LARGE');
    if (bytes === undefined) throw new OciError('BLOB_UNKNOWN', `blob ${descriptor.digest} is not in the OCI layout ${this.root}`);
    verifyBytes(bytes, descriptor.digest, descriptor.size, 'blob');
    return bytes;
  }

  async pushBlob(descriptor: Descriptor, body: BlobBody, options: TransferOptions = {}): Promise<PushBlobResult> {
    options.signal?.throwIfAborted();
    if (await this.storage.blobExists(descriptor.digest)) return 'exists';
    // One path for both bodies: verified while written, renamed into place at the end.
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body.open();
    await this.storage.storeBlobStream(descriptor, source, options);
    return 'uploaded';
  }

  async pushBlobStream(mediaType: string, source: Readable, options: StreamPushOptions = {}): Promise<Descriptor> {
    options.signal?.throwIfAborted();
    const { head } = options;
    if (head === undefined) return this.storage.storeBlobHashing(mediaType, source, options);
    const whole = Readable.from((async function* () {
      yield head;
      yield* source;
    })());
    return this.storage.storeBlobHashing(mediaType, whole, options);
  }

  /** Within one layout every blob is already shared: "mounted" exactly when it is present. */
  async mountBlob(descriptor: Descriptor, _fromRepository: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.hasBlob(descriptor.digest, options);
  }

  async listTags(options: { signal?: AbortSignal } = {}): Promise<string[]> {
    options.signal?.throwIfAborted();
    return tagsOf((await this.storage.readIndex()).manifests);
  }

  /**
   * Manifests listed in index.json whose `subject` is `digest`, then those of the `sha256-<hex>` fallback index
   * when the layout has that tag (oras and notation write it), each digest once. Manifests reachable only
   * through a nested index are not searched.
   */
  async referrers(digest: string, options: { signal?: AbortSignal; artifactType?: string } = {}): Promise<Descriptor[]> {
    options.signal?.throwIfAborted();
    parseDigest(digest);
    const index = await this.storage.readIndex();
    const found = new Map<string, Descriptor>();
    const seen = new Set<string>();
    for (const entry of index.manifests) {
      if (seen.has(entry.digest) || entry.size > MAX_MANIFEST_BYTES) continue;
      seen.add(entry.digest);
      const bytes = await this.readManifest(entry.digest, entry.size, entry.digest);
      const fields = manifestFields(bytes, `manifest ${entry.digest}`);
      if (fields.subjectDigest === digest) found.set(entry.digest, referrerDescriptor(entry.mediaType, entry.digest, entry.size, fields));
    }
    const fallback = findTagged(index.manifests, fallbackTag(digest));
    if (fallback !== undefined) {
      const bytes = await this.readManifest(fallback.digest, fallback.size, fallbackTag(digest));
      for (const listed of descriptorsIn(manifestFields(bytes, `referrers index ${fallback.digest}`).manifests)) {
        if (!found.has(listed.digest)) found.set(listed.digest, listed);
      }
    }
    const all = [...found.values()];
    return options.artifactType === undefined ? all : all.filter((d) => d.artifactType === options.artifactType);
  }

  async commit(): Promise<void> {
    await this.storage.commit?.();
  }

  async close(): Promise<void> {
    await this.storage.close();
  }

  private updateIndex(edit: (index: LayoutIndex) => Promise<Descriptor[] | undefined>, signal: AbortSignal | undefined): Promise<void> {
    return this.storage.updateIndex(edit, signal);
  }

  /** Digests among `entries` whose manifest has a subject (they must stay listed to be found as referrers). */
  private async withSubject(entries: readonly Descriptor[]): Promise<Set<string>> {
    const digests = new Set<string>();
    for (const entry of entries) {
      const bytes = await this.storage.readBlob(entry.digest, MAX_MANIFEST_BYTES, 'MANIFEST_TOO_LARGE').catch(() => undefined);
      if (bytes === undefined) continue;
      try {
        if (manifestFields(bytes, entry.digest).subjectDigest !== undefined) digests.add(entry.digest);
      } catch {
        // not a manifest we can read: nothing to keep findable
      }
    }
    return digests;
  }

  /** Manifest bytes from blobs/, capped and checked against the digest (and the size index.json states). */
  private async readManifest(digest: string, size: number | undefined, reference: string): Promise<Buffer> {
    if (size !== undefined && size > MAX_MANIFEST_BYTES) {
      throw new OciError('MANIFEST_TOO_LARGE', `manifest ${reference} in the OCI layout ${this.root} is ${size} bytes, more than the ${MAX_MANIFEST_BYTES} allowed`);
    }
    const bytes = await this.storage.readBlob(digest, MAX_MANIFEST_BYTES, 'MANIFEST_TOO_LARGE');
    if (bytes === undefined) {
      throw new OciError('MANIFEST_UNKNOWN', `manifest ${reference} is not in the OCI layout ${this.root} (no blob ${digest})`);
    }
    verifyBytes(bytes, digest, size, `manifest ${reference}`);
    return bytes;
  }

  private manifestUnknown(reference: string): OciError {
    return new OciError('MANIFEST_UNKNOWN', `manifest '${reference}' not found in the OCI layout ${this.root}`, {
      hint: 'list the tags of the layout to see what it holds',
    });
  }
}

/** A reference with ':' is a digest (tags cannot contain one); parsing it rejects malformed digests. */
function isDigestReference(reference: string): boolean {
  if (!reference.includes(':')) return false;
  parseDigest(reference);
  return true;
}

function lookup(index: LayoutIndex, reference: string): Descriptor | undefined {
  return isDigestReference(reference) ? findDigest(index.manifests, reference) : findTagged(index.manifests, reference);
}
