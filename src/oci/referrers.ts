import { Code, isOciError, OciError } from '../errors.js';
import { MAX_MANIFEST_BYTES, MediaType } from './mediatypes.js';
import type { Descriptor, FetchedManifest, ImageIndex, Repository } from './types.js';
import { parseDigest } from '../ref/digest.js';

/**
 * Tags that name things attached to an artifact without the referrers API: the distribution-spec fallback index
 * `<alg>-<hex>` and cosign's `<alg>-<hex>.sig|.att|.sbom`. Shared by copy, inspect and signing.
 */

/** Suffixes cosign appends to the fallback-style tag: signatures, attestations, SBOMs. */
export const COSIGN_TAG_SUFFIXES = ['.sig', '.att', '.sbom'] as const;
export type CosignTagSuffix = (typeof COSIGN_TAG_SUFFIXES)[number];

/** The tag of the referrers tag-schema fallback index: `<alg>-<hex>`, alg cut to 32, hex to 64 characters. */
export function fallbackTag(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm.slice(0, 32)}-${hex.slice(0, 64)}`;
}

/** cosign's tag for a signature, attestation or SBOM of `digest`, e.g. `sha256-<hex>.sig`. */
export function cosignTag(digest: string, suffix: CosignTagSuffix): string {
  return `${fallbackTag(digest)}${suffix}`;
}

/**
 * The manifest at a fallback or cosign tag, or undefined when nothing is attached: the tag (or, on a registry, the
 * whole repository) does not exist. Every other failure is thrown.
 */
export async function getTagIfPresent(
  repo: Repository,
  tag: string,
  options: { signal?: AbortSignal; accept?: readonly string[] } = {},
): Promise<FetchedManifest | undefined> {
  try {
    return await repo.getManifest(tag, options);
  } catch (err) {
    // NOT_FOUND: a bare 404 without a spec error code, as some registries answer.
    if (isOciError(err, Code.ManifestUnknown, Code.NameUnknown, Code.NotFound)) return undefined;
    throw err;
  }
}

/**
 * The manifest at the fallback tag of `subject`, or undefined when there is no fallback index. A registry that
 * reads `sha256-<hex>` as the digest `sha256:<hex>` (GitLab's does, oras-go#1396) answers with the subject itself:
 * that is no referrers index, and an image index subject's own children must not pass for its referrers.
 */
async function getFallbackIndex(repo: Repository, subject: string, signal?: AbortSignal): Promise<FetchedManifest | undefined> {
  const fetched = await getTagIfPresent(repo, fallbackTag(subject), { signal, accept: [MediaType.OciIndex] });
  return fetched === undefined || fetched.digest === subject ? undefined : fetched;
}

/** The `manifests` of a fallback index's bytes; throws when the bytes are not JSON. */
function fallbackManifests(repo: Repository, subject: string, bytes: Buffer): unknown {
  try {
    return (JSON.parse(bytes.toString('utf8')) as { manifests?: unknown } | null)?.manifests;
  } catch (err) {
    throw new OciError('MANIFEST_INVALID', `referrers index ${repo.displayName}:${fallbackTag(subject)} is not JSON`, { cause: err });
  }
}

/**
 * The referrers of `subject` listed by its fallback index (referrers tag schema), for a registry without the
 * referrers API; empty when there is none. Anything at the tag that is not an index lists nothing.
 */
export async function fallbackReferrers(repo: Repository, subject: string, signal?: AbortSignal, onIndex?: FallbackIndexSeen): Promise<Descriptor[]> {
  const fetched = await getFallbackIndex(repo, subject, signal);
  onIndex?.(fetched);
  return fetched === undefined ? [] : descriptorsIn(fallbackManifests(repo, subject, fetched.bytes));
}

/** Told the fallback index a referrers listing was read from (undefined: there is none), for a caller about to add to it. */
export type FallbackIndexSeen = (index: FetchedManifest | undefined) => void;

/** The entries of the fallback index of `subject`, to add to; empty when there is none, refused when the tag holds something else. */
function fallbackEntries(repo: Repository, subject: string, fetched: FetchedManifest | undefined): Descriptor[] {
  if (fetched === undefined) return [];
  const manifests = fallbackManifests(repo, subject, fetched.bytes);
  if (!Array.isArray(manifests)) {
    const tag = fallbackTag(subject);
    throw new OciError('MANIFEST_INVALID', `referrers index ${repo.displayName}:${tag} is not an image index`,
      { hint: `delete the tag ${tag} so it can be rewritten` });
  }
  return descriptorsIn(manifests);
}

/**
 * The well-formed descriptors of a referrers listing's `manifests` (from a registry or a file: anything may be
 * there); entries without a string digest and media type, a numeric size, a string artifactType and string
 * annotations are dropped instead of failing later as a TypeError, or as a stack overflow when a value nested
 * thousands deep is printed or written into a fallback index.
 */
export function descriptorsIn(manifests: unknown): Descriptor[] {
  if (!Array.isArray(manifests)) return [];
  return manifests.filter((m): m is Descriptor =>
    typeof m === 'object' && m !== null && typeof m.digest === 'string' && typeof m.mediaType === 'string' &&
    typeof m.size === 'number' && (m.artifactType === undefined || typeof m.artifactType === 'string') &&
    (m.annotations === undefined || isStringRecord(m.annotations)));
}

export function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

/** What a referrers listing says about one referrer (its manifest's media type, digest, size, artifactType, annotations). */
function listingEntry(descriptor: Descriptor): Descriptor {
  const entry: Descriptor = { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
  if (descriptor.artifactType !== undefined) entry.artifactType = descriptor.artifactType;
  if (descriptor.annotations !== undefined && Object.keys(descriptor.annotations).length > 0) entry.annotations = descriptor.annotations;
  return entry;
}

/**
 * Add referrers of `subject` to the `<alg>-<hex>` fallback index (read-modify-write, kept sorted by digest as
 * cosign writes it). For registries without the referrers API; entries already listed are left as they are.
 * `current`: the index as just read by a referrers listing, so it is not read a second time.
 * Returns the digests that were added (empty when nothing had to change, and then nothing is written).
 */
export async function addToFallbackIndex(
  repo: Repository,
  subject: string,
  referrers: readonly Descriptor[],
  signal?: AbortSignal,
  current?: { index: FetchedManifest | undefined },
): Promise<string[]> {
  const tag = fallbackTag(subject);
  const entries = fallbackEntries(repo, subject, current !== undefined ? current.index : await getFallbackIndex(repo, subject, signal));
  const known = new Set(entries.map((e) => e.digest));
  const added: string[] = [];
  for (const referrer of referrers) {
    if (known.has(referrer.digest)) continue;
    known.add(referrer.digest);
    entries.push(listingEntry(referrer));
    added.push(referrer.digest);
  }
  if (added.length === 0) return added;
  entries.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: entries };
  const bytes = Buffer.from(JSON.stringify(index));
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new OciError('MANIFEST_TOO_LARGE', `referrers index ${repo.displayName}:${tag} would exceed ${MAX_MANIFEST_BYTES} bytes`);
  }
  await repo.putManifest(tag, bytes, MediaType.OciIndex, { signal });
  return added;
}

/**
 * Make sure `repo.referrers(subject)` lists each of `referrers` after their manifests were pushed by digest.
 * A layout or a registry with the referrers API lists them already; otherwise the fallback index is updated.
 * Returns the digests added to the fallback index.
 */
export async function ensureReferrersListed(
  repo: Repository,
  subject: string,
  referrers: readonly Descriptor[],
  signal?: AbortSignal,
): Promise<string[]> {
  if (referrers.length === 0) return [];
  // A registry without the referrers API lists from the fallback index: the index read then is the one added to.
  let current: { index: FetchedManifest | undefined } | undefined;
  const onFallbackIndex: FallbackIndexSeen = (index) => {
    current = { index };
  };
  const listed = new Set((await repo.referrers(subject, { signal, onFallbackIndex })).map((d) => d.digest));
  const missing = referrers.filter((r) => !listed.has(r.digest));
  return missing.length === 0 ? [] : addToFallbackIndex(repo, subject, missing, signal, current);
}
