import { OciError, usageError } from '../errors.js';
import { MANIFEST_MEDIA_TYPES } from '../oci/mediatypes.js';
import { openRepository } from './support/open-repository.js';
import { COSIGN_TAG_SUFFIXES, cosignTag, ensureReferrersListed, getTagIfPresent } from '../oci/referrers.js';
import type { Descriptor, Repository } from '../oci/types.js';
import { formatReference, manifestReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { OpContext } from './support/context.js';
import { GraphCopier, mountSource, type BlobCounts } from './support/copy-graph.js';
import { explainNotFound } from './support/not-found.js';

export interface CopyOptions {
  source: ArtifactReference;
  destination: ArtifactReference;
  /** Also copy cosign `.sig`/`.att`/`.sbom` tags and OCI referrers of the artifact (default true). */
  includeSignatures?: boolean;
  /** Blob transfers in flight at once. */
  concurrency?: number;
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

/** Bound on attached manifests followed (referrers of referrers included), against hostile or runaway graphs. */
const MAX_ATTACHED = 256;

/**
 * Copy an artifact between any two repositories (registry or layout), keeping its manifest bytes and digest;
 * with signatures, also what is attached to it.
 */
export async function copy(options: CopyOptions, ctx: OpContext): Promise<CopyResult> {
  const { source, destination } = options;
  if (destination.digest !== undefined && source.digest !== undefined && destination.digest !== source.digest) {
    throw digestConflict(source.digest, destination);
  }
  const tag = destination.tag ?? source.tag ?? (source.digest === undefined ? 'latest' : undefined);
  const src = await openRepository(source, { ...ctx.repositoryOptions, ...ctx.sides?.source, signal: ctx.signal });
  try {
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

/**
 * Copy cosign's `.sig`/`.att`/`.sbom` tags and the OCI referrers of `subject`, then of each referrer copied (a
 * signature of an SBOM, ...). Referrers are stored by digest; where the destination would not list them
 * (a registry without the referrers API) the `sha256-<hex>` fallback index is updated. Returns the count copied.
 */
async function copyAttached(copier: GraphCopier, src: Repository, dst: Repository, subject: string, ctx: OpContext): Promise<number> {
  const queue = [subject];
  const seen = new Set(queue);
  let count = 0;
  while (queue.length > 0) {
    const digest = queue.shift() as string;
    for (const suffix of COSIGN_TAG_SUFFIXES) {
      const tag = cosignTag(digest, suffix);
      const manifest = await getTagIfPresent(src, tag, { signal: ctx.signal, accept: MANIFEST_MEDIA_TYPES });
      if (manifest === undefined) continue;
      ctx.onStep?.(`copying ${tag}`);
      await copier.copyManifest(manifest, tag);
      count++;
    }
    const referrers = await src.referrers(digest, { signal: ctx.signal });
    const copied: Descriptor[] = [];
    for (const referrer of referrers) {
      if (seen.has(referrer.digest)) continue;
      if (seen.size >= MAX_ATTACHED) {
        throw new OciError('TOO_MANY_REFERRERS', `${src.displayName} has more than ${MAX_ATTACHED} manifests attached to ${subject}`,
          { hint: 'copy with --no-include-signatures and attach what you need separately' });
      }
      seen.add(referrer.digest);
      ctx.onStep?.(`copying referrer ${referrer.digest}`);
      const manifest = await copier.fetch(referrer.digest);
      await copier.copyManifest(manifest, referrer.digest);
      copied.push({ ...referrer, mediaType: manifest.mediaType, size: manifest.bytes.length });
      queue.push(referrer.digest);
      count++;
    }
    await ensureReferrersListed(dst, digest, copied, ctx.signal);
  }
  return count;
}

