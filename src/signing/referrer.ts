/**
 * Writing one signature or attestation as an OCI 1.1 referrer: its blobs, an image manifest with `artifactType`,
 * an empty config and `subject`, pushed by digest, then listed in the `<alg>-<hex>` fallback index when the
 * repository has no referrers API (what oras-go, notation and cosign v3 do).
 */
import { MediaType } from '../oci/mediatypes.js';
import { ensureReferrersListed } from '../oci/referrers.js';
import type { Descriptor, ImageManifest, Repository } from '../oci/types.js';
import { digestOf } from '../ref/digest.js';

const EMPTY_JSON = Buffer.from('{}');

export interface ReferrerSpec {
  artifactType: string;
  /** The one layer: its media type and bytes. */
  layer: { mediaType: string; bytes: Buffer };
  subject: Descriptor;
  annotations: Record<string, string>;
}

export function descriptorOf(mediaType: string, bytes: Buffer): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}

/** `org.opencontainers.image.created` as the tools write it: RFC 3339, seconds, UTC. */
export function createdAnnotation(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Push the referrer; returns the digest of its manifest. */
export async function pushReferrer(repo: Repository, spec: ReferrerSpec, signal?: AbortSignal): Promise<string> {
  const config = descriptorOf(MediaType.OciEmpty, EMPTY_JSON);
  const layer = descriptorOf(spec.layer.mediaType, spec.layer.bytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: spec.artifactType,
    config,
    layers: [layer],
    subject: { mediaType: spec.subject.mediaType, digest: spec.subject.digest, size: spec.subject.size },
    annotations: spec.annotations,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  await Promise.all([repo.pushBlob(config, EMPTY_JSON, { signal }), repo.pushBlob(layer, spec.layer.bytes, { signal })]);
  const digest = await repo.putManifest(digestOf(bytes), bytes, MediaType.OciManifest, { signal });
  const listed: Descriptor = { ...descriptorOf(MediaType.OciManifest, bytes), artifactType: spec.artifactType, annotations: spec.annotations };
  await ensureReferrersListed(repo, spec.subject.digest, [listed], signal);
  return digest;
}
