import { OciError } from '../errors.js';
import { artifactMetadata, parseManifest } from '../artifact/manifest.js';
import { MANIFEST_MEDIA_TYPES, MediaType } from '../oci/mediatypes.js';
import type { Descriptor, ImageManifest, Repository } from '../oci/types.js';
import { manifestReference, formatReference, type ArtifactReference } from '../ref/reference.js';

/** A resolved artifact: its manifest as stored, parsed, and the descriptor that names it. */
export interface ResolvedArtifact {
  descriptor: Descriptor;
  manifest: ImageManifest;
  metadata: ReturnType<typeof artifactMetadata>;
}

/**
 * Fetch and parse an artifact's image manifest in one request (the digest comes from the bytes).
 * Indexes are refused with a clear message: Flux artifacts are single manifests.
 */
export async function fetchArtifact(repo: Repository, ref: ArtifactReference, signal?: AbortSignal): Promise<ResolvedArtifact> {
  const fetched = await repo.getManifest(manifestReference(ref), { signal, accept: MANIFEST_MEDIA_TYPES });
  const parsed = parseManifest(fetched.bytes, fetched.mediaType);
  if (!('layers' in parsed)) {
    throw new OciError('NOT_AN_ARTIFACT', `${formatReference(ref)} is an image index, not a single artifact manifest`,
      { kind: 'usage', hint: 'pull one of its manifests by digest' });
  }
  const descriptor: Descriptor = {
    mediaType: fetched.mediaType || parsed.mediaType || MediaType.OciManifest,
    digest: fetched.digest,
    size: fetched.bytes.length,
  };
  return { descriptor, manifest: parsed, metadata: artifactMetadata(parsed) };
}
