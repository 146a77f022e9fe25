import { OciError, usageError } from '../errors.js';
import { Annotation, MAX_MANIFEST_BYTES, MediaType } from '../oci/mediatypes.js';
import { jsonNestsDeeperThan, MAX_JSON_NESTING } from '../oci/json-nesting.js';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.js';
import { isDigest } from '../ref/digest.js';

/**
 * The Flux artifact format: config, manifest, annotations; and the checks applied to manifests we read.
 * JSON is written compact, with keys in the order go-containerregistry writes them and annotation keys sorted
 * (Go marshals maps sorted), so equal inputs always give equal bytes and digests.
 */

/**
 * go-containerregistry's ConfigFile of `mutate.Append(empty.Image, layer)`, as `flux push` uploads it. The only
 * variable is the diff_id; "0001-01-01T00:00:00Z" is Go's zero time (a constant, not a clock reading), so a
 * re-push of unchanged content finds the same config blob.
 */
export function buildFluxConfig(diffId: string): Buffer {
  if (!isDigest(diffId)) throw new OciError('DIGEST_INVALID', `diff_id '${diffId}' is not a digest`);
  const zeroTime = '0001-01-01T00:00:00Z';
  const config = {
    architecture: '',
    created: zeroTime,
    history: [{ created: zeroTime }],
    os: '',
    rootfs: { type: 'layers', diff_ids: [diffId] },
    config: {},
  };
  return Buffer.from(JSON.stringify(config));
}

export function buildFluxManifest(input: { config: Descriptor; layer: Descriptor; annotations: Record<string, string> }): Buffer {
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: descriptorJson(input.config),
    layers: [descriptorJson(input.layer)],
  };
  if (Object.keys(input.annotations).length > 0) manifest.annotations = sortedRecord(input.annotations);
  return Buffer.from(JSON.stringify(manifest));
}

/** Go's v1.Descriptor field order: mediaType, size, digest, then the optional fields. */
function descriptorJson(d: Descriptor): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType: d.mediaType, size: d.size, digest: d.digest };
  if (d.urls) out.urls = d.urls;
  if (d.annotations) out.annotations = sortedRecord(d.annotations);
  if (d.platform) out.platform = d.platform;
  if (d.artifactType) out.artifactType = d.artifactType;
  return out;
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface AnnotationInput {
  source?: string;
  revision?: string;
  /** Defaults to now. */
  created?: Date;
  /** Use the Unix epoch as `created` (Flux's --reproducible), so the manifest digest depends on content only. */
  reproducible?: boolean;
  /** `-a key=value` annotations; like Flux, they override the three standard keys. */
  extra?: Record<string, string>;
}

const EPOCH = '1970-01-01T00:00:00Z';

export function buildAnnotations(input: AnnotationInput): Record<string, string> {
  const annotations: Record<string, string> = {
    [Annotation.Created]: input.reproducible ? EPOCH : formatRfc3339(input.created ?? new Date()),
  };
  if (input.source) annotations[Annotation.Source] = input.source;
  if (input.revision) annotations[Annotation.Revision] = input.revision;
  return { ...annotations, ...input.extra };
}

/** RFC 3339 in UTC without fractional seconds, as Go's time.RFC3339 prints it. */
export function formatRfc3339(date: Date): string {
  if (Number.isNaN(date.getTime())) throw usageError('DATE_INVALID', 'the creation date is not a valid date');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `-a key=value` flags. The split is at the FIRST '=', so values may contain '=' (Flux rejects them; a base64
 * value or a URL query is too common to refuse). Repeating a key keeps the last value.
 */
export function parseAnnotationFlags(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) {
      throw usageError(
        'ANNOTATION_INVALID',
        eq < 0 ? `annotation '${value}' has no '='` : `annotation '${value}' has an empty key`,
        'write them as --annotations key=value',
      );
    }
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}

const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MediaType.OciManifest, MediaType.DockerManifest]);

/**
 * Parse and check manifest bytes. `mediaType` is the Content-Type it was served with (if known); a media type
 * in the body must agree with it. Without either, the presence of `manifests` tells an index.
 */
export function parseManifest(bytes: Buffer, mediaType?: string): ImageManifest | ImageIndex {
  if (bytes.length > MAX_MANIFEST_BYTES) invalid(`it is ${bytes.length} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`);
  const text = bytes.toString('utf8');
  if (jsonNestsDeeperThan(text)) invalid(`it nests arrays and objects more than ${MAX_JSON_NESTING} levels deep`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    invalid('it is not JSON');
  }
  if (!isObject(doc)) invalid('it is not a JSON object');
  if (doc.schemaVersion !== 2) invalid(`schemaVersion is ${JSON.stringify(doc.schemaVersion)}, expected 2`);
  const bodyType = doc.mediaType;
  if (bodyType !== undefined && typeof bodyType !== 'string') invalid('mediaType is not a string');
  const served = mediaType?.split(';')[0]?.trim() || undefined;
  if (served !== undefined && bodyType !== undefined && served !== bodyType) {
    invalid(`it was served as ${served} but says it is ${bodyType}`);
  }
  const type = bodyType ?? served;
  checkAnnotations(doc.annotations, 'annotations');
  if (doc.subject !== undefined) checkDescriptor(doc.subject, 'subject');
  const isIndex = type !== undefined ? INDEX_TYPES.has(type) : doc.manifests !== undefined;
  if (isIndex) {
    if (!Array.isArray(doc.manifests)) invalid('an index needs a manifests array');
    doc.manifests.forEach((d, i) => checkDescriptor(d, `manifests[${i}]`));
    return doc as unknown as ImageIndex;
  }
  if (type !== undefined && !MANIFEST_TYPES.has(type)) invalid(`media type ${type} is not an image manifest or index`);
  checkDescriptor(doc.config, 'config');
  if (!Array.isArray(doc.layers)) invalid('layers is not an array');
  doc.layers.forEach((d, i) => checkDescriptor(d, `layers[${i}]`));
  return doc as unknown as ImageManifest;
}

export function isImageIndex(manifest: ImageManifest | ImageIndex): manifest is ImageIndex {
  return 'manifests' in manifest;
}

function checkDescriptor(value: unknown, where: string): void {
  if (!isObject(value)) invalid(`${where} is not a descriptor object`);
  if (typeof value.mediaType !== 'string' || value.mediaType === '') invalid(`${where}.mediaType is missing`);
  if (typeof value.digest !== 'string' || !isDigest(value.digest)) invalid(`${where}.digest ${JSON.stringify(value.digest)} is not a valid digest`);
  if (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0) {
    invalid(`${where}.size ${JSON.stringify(value.size)} is not a non-negative integer`);
  }
  checkAnnotations(value.annotations, `${where}.annotations`);
}

function checkAnnotations(value: unknown, where: string): void {
  if (value === undefined) return;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) invalid(`${where} must map strings to strings`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(reason: string): never {
  throw new OciError('MANIFEST_INVALID', `the manifest is invalid: ${reason}`);
}

export interface LayerChoice {
  mediaType?: string;
  index?: number;
}

/** Media types of gzip'd tar layers we can extract when no Flux content layer is present. */
const GZIP_TAR_TYPES = new Set<string>([MediaType.FluxContent, MediaType.OciLayerTarGzip, MediaType.DockerLayerTarGzip, MediaType.HelmChart]);

/** A layer we extract as a gzip'd tar: a known type, or any `...tar+gzip` type picked explicitly. */
export function isGzipTarLayer(mediaType: string): boolean {
  return GZIP_TAR_TYPES.has(mediaType) || mediaType.endsWith('tar+gzip');
}

/**
 * The layer to pull: an explicit media type (first layer of that type) or index; by default the Flux content
 * layer, else the first gzip'd tar layer (OCI, Docker, Helm, or any `...tar+gzip` type).
 */
export function selectContentLayer(manifest: ImageManifest, choose: LayerChoice = {}): Descriptor {
  const layers = manifest.layers;
  if (layers.length === 0) throw new OciError('NO_LAYERS', 'the artifact has no layers, so there is no content to fetch');
  if (choose.mediaType !== undefined && choose.index !== undefined) {
    throw usageError('LAYER_CHOICE_CONFLICT', 'give either --layer-media-type or --layer-index, not both');
  }
  const available = [...new Set(layers.map((l) => l.mediaType))].join(', ');
  if (choose.index !== undefined) {
    const layer = Number.isInteger(choose.index) ? layers[choose.index] : undefined;
    if (!layer) {
      throw usageError('LAYER_NOT_FOUND', `layer index ${choose.index} is out of range: the artifact has ${layers.length} ${layers.length === 1 ? 'layer' : 'layers'}`, `Use --layer-index 0 to ${layers.length - 1}.`);
    }
    return layer;
  }
  if (choose.mediaType !== undefined) {
    const layer = layers.find((l) => l.mediaType === choose.mediaType);
    if (!layer) {
      throw usageError('LAYER_NOT_FOUND', `no layer has media type ${choose.mediaType}; the artifact has: ${available}`, 'Pass one of those to --layer-media-type.');
    }
    return layer;
  }
  // Like source-controller, any gzip'd tar layer is content: a push to a registry that refuses Flux's types, or
  // with --layer-media-type, names it otherwise.
  const layer = layers.find((l) => l.mediaType === MediaType.FluxContent) ?? layers.find((l) => isGzipTarLayer(l.mediaType));
  if (!layer) {
    throw new OciError('LAYER_NOT_FOUND', `no layer is a gzip'd tar; the artifact has: ${available}`, {
      kind: 'usage',
      hint: 'Pick a layer with --layer-media-type or --layer-index.',
    });
  }
  return layer;
}

export interface ArtifactMetadata {
  source?: string;
  revision?: string;
  created?: string;
  /** All manifest annotations (source-controller hands them all on as artifact metadata). */
  annotations: Record<string, string>;
}

export function artifactMetadata(manifest: ImageManifest | ImageIndex): ArtifactMetadata {
  const annotations = { ...(manifest.annotations ?? {}) };
  const meta: ArtifactMetadata = { annotations };
  if (annotations[Annotation.Source]) meta.source = annotations[Annotation.Source];
  if (annotations[Annotation.Revision]) meta.revision = annotations[Annotation.Revision];
  if (annotations[Annotation.Created]) meta.created = annotations[Annotation.Created];
  return meta;
}
