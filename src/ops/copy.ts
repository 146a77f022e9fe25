import { OciError, usageError } from '../errors.js';
import { MANIFEST_MEDIA_TYPES } from '../oci/mediatypes.js';
import { openRepository } from './support/open-repository.js';
import { formatReference, manifestReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { OpContext } from './support/context.js';
import { copyAttached } from './support/copy-attached.js';
import { GraphCopier, mountSource, type BlobCounts } from './support/copy-graph.js';
import { explainNotFound } from './support/not-found.js';
import { selectLatest } from './support/select-release.js';
import type { TagFilterOptions } from './support/tag-filter.js';

export interface CopyOptions {
  source: ArtifactReference;
  destination: ArtifactReference;
  /** Also copy cosign `.sig`/`.att`/`.sbom` tags and OCI referrers of the artifact (default true). */
  includeSignatures?: boolean;
  /** Blob transfers in flight at once. */
  concurrency?: number;
  /** `--latest`: the source is a repository and the tag copied is the first `list` shows with these filters. */
  latest?: TagFilterOptions;
}

export interface CopyResult {
  /** The source as given, pinned to the digest copied. */
  source: string;
  /** Where it now is: destination tag (when any) and digest. */
  destination: string;
  digest: string;
  mediaType: string;
  tag?: string;
  blobs: BlobCounts;
  /** Signature, attestation and SBOM tags plus referrer manifests copied. */
  signatures: number;
}

/**
 * Copy an artifact between any two repositories (registry or layout), keeping its manifest bytes and digest;
 * with signatures, also what is attached to it.
 */
export async function copy(options: CopyOptions, ctx: OpContext): Promise<CopyResult> {
  const { destination } = options;
  let source = options.source;
  if (destination.digest !== undefined && source.digest !== undefined && destination.digest !== source.digest) {
    throw digestConflict(source.digest, destination);
  }
  const src = await openRepository(source, { ...ctx.repositoryOptions, ...ctx.sides?.source, signal: ctx.signal });
  try {
    if (options.latest !== undefined) source = await selectLatest(src, source, options.latest, ctx.signal);
    const tag = destination.tag ?? source.tag ?? (source.digest === undefined ? 'latest' : undefined);
    ctx.onStep?.(`resolving ${formatReference(source)}`);
    const root = await src.getManifest(manifestReference(source), { signal: ctx.signal, accept: MANIFEST_MEDIA_TYPES })
      .catch((err: unknown) => Promise.reject(explainNotFound(err, source)));
    if (destination.digest !== undefined && destination.digest !== root.digest) throw digestConflict(root.digest, destination);
    // Opened only once the source is known to exist, so a failed copy leaves no empty layout behind.
    const dst = await openRepository(destination, { ...ctx.repositoryOptions, ...ctx.sides?.destination, create: true, signal: ctx.signal });
    try {
      const copier = new GraphCopier(src, dst, {
        signal: ctx.signal,
        onProgress: ctx.onProgress,
        mountFrom: mountSource(source, destination),
        concurrency: options.concurrency,
      });
      ctx.onStep?.(`copying ${root.digest} to ${dst.displayName}`);
      await copier.copyManifest(root, tag ?? root.digest);
      const signatures = options.includeSignatures === false ? 0 : await copyAttached(copier, src, dst, root.digest, ctx);
      await dst.commit?.();

      const result: CopyResult = {
        source: formatReference(withVersion(source, { tag: source.tag, digest: root.digest })),
        destination: formatReference(withVersion(destination, { tag, digest: root.digest })),
        digest: root.digest,
        mediaType: root.mediaType,
        blobs: { ...copier.blobs },
        signatures,
      };
      if (tag !== undefined) result.tag = tag;
      return result;
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

function digestConflict(actual: string, destination: ArtifactReference): OciError {
  return usageError('DIGEST_MISMATCH', `the destination ${formatReference(destination)} names digest ${destination.digest}, but the source is ${actual}`,
    'drop the digest from the destination or give a tag');
}
