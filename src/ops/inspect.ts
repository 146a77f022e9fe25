import { OciError } from '../errors.js';
import { artifactMetadata, isImageIndex, parseManifest, selectContentLayer } from '../artifact/manifest.js';
import { readArchiveEntries } from '../artifact/archive-entries.js';
import { Annotation, COSIGN_SIGN_PREDICATE, MANIFEST_MEDIA_TYPES, MediaType } from '../oci/mediatypes.js';
import { openRepository } from './support/open-repository.js';
import { COSIGN_TAG_SUFFIXES, cosignTag, type CosignTagSuffix } from '../oci/referrers.js';
import type { Descriptor, ImageIndex, ImageManifest, Repository } from '../oci/types.js';
import { formatReference, manifestReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { OpContext } from './support/context.js';
import { explainNotFound } from './support/not-found.js';

export interface InspectOptions {
  ref: ArtifactReference;
  /** List the files of the content layer. */
  files?: boolean;
  /** Uncompressed size cap for the file listing, in bytes; 0 for none. */
  maxSize?: number;
}

export interface InspectedFile {
  path: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
  sha256?: string;
  linkTarget?: string;
}

/**
 * Something attached to the artifact: a cosign tag, or an OCI referrer, told apart by its artifact type and
 * annotations: a notation or cosign v3 signature, an attestation (a Sigstore bundle with another predicate
 * type), or any other referrer.
 */
export interface AttachedManifest {
  kind: 'cosign-signature' | 'cosign-attestation' | 'cosign-sbom' | 'signature' | 'attestation' | 'referrer';
  /** The cosign tag (`sha256-<hex>.sig`, ...); absent for referrers. */
  tag?: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  /** Attestations: the in-toto predicate type their bundle is annotated with. */
  predicateType?: string;
  annotations?: Record<string, string>;
}

export interface InspectResult {
  reference: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  /** The manifest as stored, parsed. */
  manifest: ImageManifest | ImageIndex;
  /** Absent for an image index. */
  config?: Descriptor;
  source?: string;
  revision?: string;
  created?: string;
  annotations: Record<string, string>;
  /** Layers of an image manifest; empty for an index. */
  layers: Descriptor[];
  /** Child manifests of an image index. */
  manifests?: Descriptor[];
  /** The content layer's entries, with `files`. */
  files?: InspectedFile[];
  /** The layer `files` lists. */
  filesLayer?: Descriptor;
  referrers: AttachedManifest[];
}

const KIND_OF_SUFFIX: Record<CosignTagSuffix, AttachedManifest['kind']> = {
  '.sig': 'cosign-signature',
  '.att': 'cosign-attestation',
  '.sbom': 'cosign-sbom',
};

export async function inspect(options: InspectOptions, ctx: OpContext): Promise<InspectResult> {
  const repo = await openRepository(options.ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    ctx.onStep?.(`fetching ${formatReference(options.ref)}`);
    const fetched = await repo.getManifest(manifestReference(options.ref), { signal: ctx.signal, accept: MANIFEST_MEDIA_TYPES })
      .catch((err: unknown) => Promise.reject(explainNotFound(err, options.ref)));
    const manifest = parseManifest(fetched.bytes, fetched.mediaType);
    const metadata = artifactMetadata(manifest);
    const result: InspectResult = {
      reference: formatReference(withVersion(options.ref, { tag: options.ref.tag, digest: fetched.digest })),
      digest: fetched.digest,
      mediaType: fetched.mediaType,
      size: fetched.bytes.length,
      manifest,
      annotations: metadata.annotations,
      layers: [],
      referrers: [],
    };
    if (manifest.artifactType !== undefined) result.artifactType = manifest.artifactType;
    if (metadata.source !== undefined) result.source = metadata.source;
    if (metadata.revision !== undefined) result.revision = metadata.revision;
    if (metadata.created !== undefined) result.created = metadata.created;
    if (isImageIndex(manifest)) {
      result.manifests = manifest.manifests;
      if (options.files) {
        throw new OciError('NOT_AN_ARTIFACT', `${formatReference(options.ref)} is an image index, which has no content layer to list`,
          { kind: 'usage', hint: 'inspect one of its manifests by digest' });
      }
    } else {
      result.config = manifest.config;
      result.layers = manifest.layers;
      if (options.files) {
        const layer = selectContentLayer(manifest);
        ctx.onStep?.(`listing ${layer.digest}`);
        result.filesLayer = layer;
        result.files = await listFiles(repo, layer, options.maxSize, ctx);
      }
    }
    ctx.onStep?.('looking for signatures and referrers');
    result.referrers = await attached(repo, fetched.digest, ctx.signal);
    return result;
  } finally {
    await repo.close();
  }
}

async function listFiles(repo: Repository, layer: Descriptor, maxSize: number | undefined, ctx: OpContext): Promise<InspectedFile[]> {
  const blob = await repo.openBlob(layer, { signal: ctx.signal, onProgress: ctx.onProgress });
  const entries = await readArchiveEntries(blob, { maxSize, signal: ctx.signal });
  return entries.map((e) => {
    const file: InspectedFile = { path: e.path, type: e.type, mode: e.mode, size: e.size };
    if (e.sha256 !== undefined) file.sha256 = e.sha256;
    if (e.linkTarget !== undefined) file.linkTarget = e.linkTarget;
    return file;
  });
}

/** From the listing alone (no fetch): cosign v3 annotates each bundle with the predicate type it holds. */
function referrerKind(referrer: Descriptor): AttachedManifest['kind'] {
  if (referrer.artifactType === MediaType.NotarySignature) return 'signature';
  if (referrer.artifactType?.startsWith('application/vnd.dev.sigstore.bundle')) {
    const predicateType = referrer.annotations?.[Annotation.SigstoreBundlePredicateType];
    return predicateType === undefined || predicateType === COSIGN_SIGN_PREDICATE ? 'signature' : 'attestation';
  }
  return 'referrer';
}

/** cosign tags present for `digest`, then its OCI referrers (API or fallback index). */
async function attached(repo: Repository, digest: string, signal: AbortSignal): Promise<AttachedManifest[]> {
  const out: AttachedManifest[] = [];
  for (const suffix of COSIGN_TAG_SUFFIXES) {
    const tag = cosignTag(digest, suffix);
    const found = await repo.resolve(tag, { signal });
    if (found !== undefined) out.push({ kind: KIND_OF_SUFFIX[suffix], tag, digest: found.digest, mediaType: found.mediaType, size: found.size });
  }
  for (const referrer of await repo.referrers(digest, { signal })) {
    const entry: AttachedManifest = { kind: referrerKind(referrer), digest: referrer.digest, mediaType: referrer.mediaType, size: referrer.size };
    if (referrer.artifactType !== undefined) entry.artifactType = referrer.artifactType;
    const predicateType = referrer.annotations?.[Annotation.SigstoreBundlePredicateType];
    if (entry.kind === 'attestation' && predicateType !== undefined) entry.predicateType = predicateType;
    if (referrer.annotations !== undefined) entry.annotations = referrer.annotations;
    out.push(entry);
  }
  return out;
}
