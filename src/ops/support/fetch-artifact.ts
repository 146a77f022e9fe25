import { OciError } from '../../errors.js';
import { artifactMetadata, parseManifest } from '../../artifact/manifest.js';
import { MANIFEST_MEDIA_TYPES, MediaType } from '../../oci/mediatypes.js';
import type { Descriptor, ImageManifest, Repository } from '../../oci/types.js';
import { manifestReference, formatReference, type ArtifactReference } from '../../ref/reference.js';
import { explainNotFound } from './not-found.js';

/** A manifest as stored and the descriptor that names it. */
export interface FetchedDescriptor {
  descriptor: Descriptor;
  bytes: Buffer;
}

/** A resolved artifact: its manifest as stored, parsed, and the descriptor that names it. */
export interface ResolvedArtifact {
  descriptor: Descriptor;
  manifest: ImageManifest;
  metadata: ReturnType<typeof artifactMetadata>;
}

/**
 * Resolve a reference by fetching its manifest (GET, not HEAD): the digest is computed from the bytes, so a
 * registry or proxy that misstates Docker-Content-Digest cannot make us pull, sign or verify something else.
 */
export async function fetchManifest(repo: Repository, ref: ArtifactReference, signal?: AbortSignal): Promise<FetchedDescriptor> {
  const fetched = await repo.getManifest(manifestReference(ref), { signal, accept: MANIFEST_MEDIA_TYPES })
    .catch((err: unknown) => Promise.reject(explainNotFound(err, ref)));
  return {
    descriptor: { mediaType: fetched.mediaType || MediaType.OciManifest, digest: fetched.digest, size: fetched.bytes.length },
    bytes: fetched.bytes,
  };
}

/**
 * Fetch and parse an artifact's image manifest in one request. Indexes are refused with a clear message:
 * Flux artifacts are single manifests.
 */
export async function fetchArtifact(repo: Repository, ref: ArtifactReference, signal?: AbortSignal): Promise<ResolvedArtifact> {
  const { descriptor, bytes } = await fetchManifest(repo, ref, signal);
  const parsed = parseManifest(bytes, descriptor.mediaType);
  if (!('layers' in parsed)) {
    throw new OciError('NOT_AN_ARTIFACT', `${formatReference(ref)} is an image index, not a single artifact manifest`,
      { kind: 'usage', hint: 'pull one of its manifests by digest' });
  }
  return { descriptor, manifest: parsed, metadata: artifactMetadata(parsed) };
}
