import { Readable } from 'node:stream';
import { OciError } from '../../errors.js';
import { isImageIndex, parseManifest } from '../../artifact/manifest.js';
import { MANIFEST_MEDIA_TYPES } from '../../oci/mediatypes.js';
import type { Descriptor, FetchedManifest, ProgressListener, Repository } from '../../oci/types.js';
import type { ArtifactReference } from '../../ref/reference.js';
import { createLimiter, type Limiter } from './limit.js';

/**
 * Copies a manifest and everything it points to (config and layer blobs, child manifests of an index) from one
 * Repository to another, bottom-up so the destination never holds a manifest whose content is missing.
 * Manifest bytes are stored unchanged, so digests are kept. Each blob and each child manifest is copied once per
 * copier however often indexes list it; blobs at most `concurrency` at a time, streamed from the source.
 */
export interface BlobCounts {
  copied: number;
  skipped: number;
  mounted: number;
}

export interface GraphCopierOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Repository name on the same registry to mount blobs from (both sides are repositories of one registry). */
  mountFrom?: string;
  /** Blob transfers in flight at once. */
  concurrency?: number;
}

/** The repository to mount blobs from: another repository of the same registry, else none (copy the bytes). */
export function mountSource(source: ArtifactReference, destination: ArtifactReference): string | undefined {
  if (source.kind !== 'registry' || destination.kind !== 'registry') return undefined;
  if (source.endpoint !== destination.endpoint || source.repository === destination.repository) return undefined;
  return source.repository;
}

const DEFAULT_CONCURRENCY = 4;
/** Nesting of indexes followed; real images use one or two levels. */
const MAX_DEPTH = 8;
/**
 * Distinct manifests copied in one graph; a multi-platform image has tens. Bounds the work a hostile index tree
 * (thousands of distinct children per level) can make us do.
 */
export const MAX_GRAPH_MANIFESTS = 1000;

export class GraphCopier {
  readonly blobs: BlobCounts = { copied: 0, skipped: 0, mounted: 0 };
  private readonly limit: Limiter;
  private readonly blobTasks = new Map<string, Promise<void>>();
  /** Child manifests by digest: each is fetched, copied and stored once however often indexes list it. */
  private readonly manifestTasks = new Map<string, Promise<void>>();

  constructor(
    private readonly source: Repository,
    private readonly destination: Repository,
    private readonly options: GraphCopierOptions = {},
  ) {
    this.limit = createLimiter(options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  /** Fetch a manifest from the source by tag or digest. */
  fetch(reference: string): Promise<FetchedManifest> {
    return this.source.getManifest(reference, { signal: this.options.signal, accept: MANIFEST_MEDIA_TYPES });
  }

  /**
   * Copy what `manifest` references, then store its bytes at the destination under `putAs` (a tag, or its
   * digest to store it untagged).
   */
  async copyManifest(manifest: FetchedManifest, putAs: string): Promise<void> {
    await this.copyReferenced(manifest, 0);
    await this.destination.putManifest(putAs, manifest.bytes, manifest.mediaType, { signal: this.options.signal });
  }

  /** The children of an index, or the config and layers of a manifest. */
  private async copyReferenced(manifest: FetchedManifest, depth: number): Promise<void> {
    const parsed = parseManifest(manifest.bytes, manifest.mediaType);
    if (isImageIndex(parsed)) {
      if (depth >= MAX_DEPTH) {
        throw new OciError('MANIFEST_INVALID', `image indexes nest deeper than ${MAX_DEPTH} levels at ${manifest.digest}; refusing to copy`);
      }
      // Checked before the first fetch, so an absurdly wide index costs no requests.
      const fresh = new Set(parsed.manifests.map((child) => child.digest).filter((digest) => !this.manifestTasks.has(digest)));
      if (this.manifestTasks.size + fresh.size > MAX_GRAPH_MANIFESTS) {
        throw new OciError('TOO_MANY_MANIFESTS', `the image index graph at ${manifest.digest} has more than ${MAX_GRAPH_MANIFESTS} distinct manifests; refusing to copy it`);
      }
      // One at a time: a child's own children already fan out, and blob transfers are bounded by the limiter.
      for (const child of parsed.manifests) await this.copyChild(child.digest, depth + 1);
    } else {
      await Promise.all([parsed.config, ...parsed.layers].map((blob) => this.copyBlob(blob)));
    }
  }

  /** Copy a child manifest and store it by digest, once per digest (a second caller shares the first's work). */
  private copyChild(digest: string, depth: number): Promise<void> {
    let task = this.manifestTasks.get(digest);
    if (task === undefined) {
      task = (async () => {
        const manifest = await this.fetch(digest);
        await this.copyReferenced(manifest, depth);
        await this.destination.putManifest(digest, manifest.bytes, manifest.mediaType, { signal: this.options.signal });
      })();
      this.manifestTasks.set(digest, task);
    }
    return task;
  }

  /** Copy one blob unless the destination has it; each digest is handled once however often it is referenced. */
  copyBlob(descriptor: Descriptor): Promise<void> {
    let task = this.blobTasks.get(descriptor.digest);
    if (task === undefined) {
      task = this.limit(() => this.transfer(descriptor));
      this.blobTasks.set(descriptor.digest, task);
    }
    return task;
  }

  private async transfer(descriptor: Descriptor): Promise<void> {
    const { signal, onProgress, mountFrom } = this.options;
    if (mountFrom !== undefined) {
      // Check first so a blob already present is counted as skipped, not as mounted.
      if (await this.destination.hasBlob(descriptor.digest, { signal })) {
        this.blobs.skipped++;
        return;
      }
      if (await this.destination.mountBlob(descriptor, mountFrom, { signal })) {
        this.blobs.mounted++;
        return;
      }
    }
    // pushBlob checks for the blob itself; the body opens the source only when an upload (or a retry) starts.
    const result = await this.destination.pushBlob(descriptor, { size: descriptor.size, open: () => this.openSource(descriptor) }, { signal, onProgress });
    this.blobs[result === 'exists' ? 'skipped' : result === 'mounted' ? 'mounted' : 'copied']++;
  }

  /** A fresh, verified stream of the source blob for each upload attempt. */
  private openSource(descriptor: Descriptor): Readable {
    const { source } = this;
    const signal = this.options.signal;
    return Readable.from((async function* () {
      yield* await source.openBlob(descriptor, { signal });
    })(), { objectMode: false });
  }
}
