/**
 * Finding the signatures of one artifact: cosign's `sha256-<hex>.sig` tag, and referrers (API or fallback tag,
 * which the Repository handles) carrying Sigstore bundles or notation envelopes. Only what names the artifact
 * as `subject` counts; other referrers (SBOMs, ...) are ignored.
 */
import { cosignTag, getTagIfPresent } from '../oci/referrers.js';
import { OciError } from '../errors.js';
import { MediaType } from '../oci/mediatypes.js';
import type { Descriptor, ImageManifest, Repository } from '../oci/types.js';

/**
 * Bounds on what verification reads, so a hostile registry cannot make it loop for long. cosign appends one layer
 * per signature to the `.sig` manifest, and one referrer per signature: real artifacts have a handful of each.
 */
export const MAX_LEGACY_SIGNATURE_LAYERS = 256;
export const MAX_SIGNATURE_REFERRERS = 100;
const MAX_SIGNATURE_BLOB = 4 * 1024 * 1024;

export type Candidate =
  | { kind: 'cosign-legacy'; source: string; payload: Buffer; annotations: Record<string, string> }
  | { kind: 'cosign-bundle'; source: string; blob: Buffer }
  | { kind: 'notation'; source: string; envelopeType: string; blob: Buffer; manifest: ImageManifest }
  /** A signature manifest that cannot even be read as one: reported, never verified. */
  | { kind: 'malformed'; family: 'cosign-bundle' | 'notation'; source: string; reason: string };

export function legacySignatureTag(digest: string): string {
  return cosignTag(digest, '.sig');
}

/** The bytes as an image manifest, or undefined when they are not one. */
function parseManifest(bytes: Buffer): ImageManifest | undefined {
  try {
    const m = JSON.parse(bytes.toString('utf8')) as ImageManifest;
    return m && typeof m === 'object' && Array.isArray(m.layers) && m.config && typeof m.config === 'object' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The legacy `.sig` manifest cosign keeps beside `digest`; undefined when the tag does not exist. */
export async function readLegacySignatureManifest(repo: Repository, digest: string, signal?: AbortSignal): Promise<ImageManifest | undefined> {
  const tag = legacySignatureTag(digest);
  const fetched = await getTagIfPresent(repo, tag, { signal });
  if (fetched === undefined) return undefined;
  const manifest = parseManifest(fetched.bytes);
  if (manifest !== undefined) return manifest;
  throw new OciError('SIGNATURE_INVALID', `${repo.displayName}:${tag} is not an image manifest`,
    { hint: `delete the tag ${tag} if it is not a cosign signature` });
}

/** Layers of the legacy `.sig` manifest; empty when the tag does not exist. */
export async function findLegacySignatures(repo: Repository, digest: string, signal?: AbortSignal): Promise<Candidate[]> {
  const tag = legacySignatureTag(digest);
  const manifest = await readLegacySignatureManifest(repo, digest, signal);
  if (manifest === undefined) return [];
  if (manifest.layers.length > MAX_LEGACY_SIGNATURE_LAYERS) throw tooManyLegacyLayers(repo, tag, manifest.layers.length);
  const out: Candidate[] = [];
  for (const [i, layer] of manifest.layers.entries()) {
    if (layer.mediaType !== MediaType.CosignSimpleSigning) continue;
    const payload = await repo.fetchBlob(layer, { signal, maxBytes: MAX_SIGNATURE_BLOB });
    out.push({ kind: 'cosign-legacy', source: `${tag}[${i}]`, payload, annotations: layer.annotations ?? {} });
  }
  return out;
}

export function tooManyLegacyLayers(repo: Repository, tag: string, layers: number): OciError {
  return new OciError('TOO_MANY_SIGNATURES',
    `signature manifest ${repo.displayName}:${tag} has ${layers} layers; at most ${MAX_LEGACY_SIGNATURE_LAYERS} are read`,
    { hint: `delete the tag ${tag} and sign again` });
}

function familyOf(type: string | undefined): 'cosign-bundle' | 'notation' | undefined {
  if (type === undefined) return undefined;
  if (type.startsWith('application/vnd.dev.sigstore.bundle')) return 'cosign-bundle';
  if (type === MediaType.NotarySignature) return 'notation';
  return undefined;
}

/** Referrers holding a signature of the wanted family. */
export async function findReferrerSignatures(
  repo: Repository,
  digest: string,
  family: 'cosign-bundle' | 'notation',
  signal?: AbortSignal,
): Promise<Candidate[]> {
  // The listing's artifactType saves a fetch; older notation manifests only say it in config.mediaType.
  const listed = (await repo.referrers(digest, { signal }))
    .filter((desc) => desc.artifactType === undefined || familyOf(desc.artifactType) === family);
  // Refused rather than cut short: verifying only the first ones could report a good signature as missing.
  if (listed.length > MAX_SIGNATURE_REFERRERS) {
    throw new OciError('TOO_MANY_SIGNATURES',
      `${repo.displayName} lists ${listed.length} referrers of ${digest} that may be ${family} signatures; at most ${MAX_SIGNATURE_REFERRERS} are read`,
      { hint: 'delete the referrers that are not signatures you need' });
  }
  const out: Candidate[] = [];
  for (const desc of listed) {
    const candidate = await readReferrer(repo, desc, digest, family, signal);
    if (candidate) out.push(candidate);
  }
  return out;
}

async function readReferrer(
  repo: Repository,
  desc: Descriptor,
  digest: string,
  family: 'cosign-bundle' | 'notation',
  signal?: AbortSignal,
): Promise<Candidate | undefined> {
  const source = desc.digest;
  const fetched = await repo.getManifest(desc.digest, { signal });
  const manifest = parseManifest(fetched.bytes);
  if (!manifest) return desc.artifactType ? { kind: 'malformed', family, source, reason: 'referrer is not an image manifest' } : undefined;
  if (familyOf(manifest.artifactType ?? manifest.config.mediaType) !== family) return undefined;
  if (manifest.subject?.digest !== digest) {
    return { kind: 'malformed', family, source, reason: `referrer's subject is ${manifest.subject?.digest ?? 'missing'}, not the artifact` };
  }
  const wanted = family === 'cosign-bundle'
    ? (l: Descriptor) => l.mediaType.startsWith('application/vnd.dev.sigstore.bundle')
    : (l: Descriptor) => l.mediaType === MediaType.Jose || l.mediaType === MediaType.Cose;
  const layers = manifest.layers.filter(wanted);
  if (layers.length !== 1) {
    return { kind: 'malformed', family, source, reason: `signature manifest has ${layers.length} signature layers, expected 1` };
  }
  const layer = layers[0]!;
  const blob = await repo.fetchBlob(layer, { signal, maxBytes: MAX_SIGNATURE_BLOB });
  return family === 'cosign-bundle'
    ? { kind: 'cosign-bundle', source, blob }
    : { kind: 'notation', source, envelopeType: layer.mediaType, blob, manifest };
}
