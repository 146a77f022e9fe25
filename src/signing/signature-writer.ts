/**
 * Writing cosign signatures to a repository, whoever made them (a key file or Fulcio): the legacy
 * `sha256-<hex>.sig` manifest with one simple-signing layer per signature, and the Sigstore bundle stored as an
 * OCI referrer (listed in the `sha256-<hex>` fallback index too, for registries without the referrers API).
 */
import { Annotation, COSIGN_SIGN_PREDICATE, MediaType } from '../oci/mediatypes.js';
import type { Descriptor, ImageManifest, Repository } from '../oci/types.js';
import { digestOf, parseDigest } from '../ref/digest.js';
import { SIMPLE_SIGNING_TYPE } from './cosign-verify.js';
import { legacySignatureTag, MAX_LEGACY_SIGNATURE_LAYERS, readLegacySignatureManifest, tooManyLegacyLayers } from './discovery.js';
import { createdAnnotation, pushReferrer } from './referrer.js';

function descriptorOf(mediaType: string, bytes: Buffer, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.length, ...extra };
}

/** The payload `cosign sign` signs in the legacy format. */
export function simpleSigningPayload(digest: string, dockerReference: string, optional?: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: SIMPLE_SIGNING_TYPE },
      optional: optional && Object.keys(optional).length > 0 ? optional : null,
    }),
  );
}

/** The in-toto statement `cosign sign` v3 signs in a bundle: the artifact as subject, predicate cosign/sign/v1. */
export function signStatement(subject: Descriptor, name: string): Buffer {
  const { algorithm, hex } = parseDigest(subject.digest);
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name, digest: { [algorithm]: hex } }],
      predicateType: COSIGN_SIGN_PREDICATE,
      predicate: {},
    }),
  );
}

/**
 * Append one simple-signing layer (payload + its annotations: signature, and for keyless the certificate, chain
 * and Rekor bundle) to the `.sig` manifest, keeping the signatures already there; returns the tag.
 */
export async function writeLegacySignature(
  repo: Repository,
  subject: Descriptor,
  payload: Buffer,
  layerAnnotations: Record<string, string>,
  signal?: AbortSignal,
): Promise<string> {
  const tag = legacySignatureTag(subject.digest);
  const layer = descriptorOf(MediaType.CosignSimpleSigning, payload, { annotations: layerAnnotations });
  const signature = layerAnnotations[Annotation.CosignSignature];
  const previous = await readLegacySignatureManifest(repo, subject.digest, signal);
  const kept = (previous?.layers ?? []).filter((l) => !(l.digest === layer.digest && l.annotations?.[Annotation.CosignSignature] === signature));
  const layers = [...kept, layer];
  // Refuse to write a manifest that verification would refuse to read.
  if (layers.length > MAX_LEGACY_SIGNATURE_LAYERS) throw tooManyLegacyLayers(repo, tag, layers.length);
  // An image config whose rootfs lists the layers, as go-containerregistry (and so cosign) writes it.
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const configDesc = descriptorOf(MediaType.OciConfig, config);
  await Promise.all([repo.pushBlob(layer, payload, { signal }), repo.pushBlob(configDesc, config, { signal })]);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers };
  await repo.putManifest(tag, Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest, { signal });
  return tag;
}

/**
 * Store a serialized Sigstore bundle as a referrer of `subject`, as cosign v3 does (a signature: predicate
 * cosign/sign/v1; an attestation: its own predicate type); returns its manifest digest.
 */
export async function writeBundleReferrer(
  repo: Repository,
  subject: Descriptor,
  bundle: Buffer,
  extraAnnotations: Record<string, string> | undefined,
  signal?: AbortSignal,
  predicateType: string = COSIGN_SIGN_PREDICATE,
): Promise<string> {
  const annotations = {
    ...extraAnnotations,
    [Annotation.SigstoreBundleContent]: 'dsse-envelope',
    [Annotation.SigstoreBundlePredicateType]: predicateType,
    [Annotation.Created]: createdAnnotation(new Date()),
  };
  const layer = { mediaType: MediaType.SigstoreBundle, bytes: bundle };
  return pushReferrer(repo, { artifactType: MediaType.SigstoreBundle, layer, subject, annotations }, signal);
}
