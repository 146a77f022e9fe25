import { OciError } from '../errors.js';
import { MediaType } from '../oci/mediatypes.js';
import { isStringRecord } from '../oci/referrers.js';
import type { Descriptor } from '../oci/types.js';

/** The few manifest fields a layout needs: its media type, and what a referrers listing reports about it. */
export interface ManifestFields {
  mediaType?: string;
  artifactType?: string;
  configMediaType?: string;
  subjectDigest?: string;
  annotations?: Record<string, string>;
  /** Present on an image index. */
  manifests?: Descriptor[];
}

export function manifestFields(bytes: Buffer, what: string): ManifestFields {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new OciError('MANIFEST_INVALID', `${what} is not JSON`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OciError('MANIFEST_INVALID', `${what} is not a JSON object`);
  }
  const m = value as Record<string, unknown>;
  const fields: ManifestFields = {};
  if (typeof m.mediaType === 'string') fields.mediaType = m.mediaType;
  if (typeof m.artifactType === 'string') fields.artifactType = m.artifactType;
  const config = m.config as { mediaType?: unknown } | undefined;
  if (typeof config?.mediaType === 'string') fields.configMediaType = config.mediaType;
  const subject = m.subject as { digest?: unknown } | undefined;
  if (typeof subject?.digest === 'string') fields.subjectDigest = subject.digest;
  if (isStringRecord(m.annotations)) fields.annotations = m.annotations;
  if (Array.isArray(m.manifests)) fields.manifests = m.manifests as Descriptor[];
  return fields;
}

/** The media type of stored manifest bytes that carry none: an index has `manifests`, anything else is an image manifest. */
export function sniffMediaType(fields: ManifestFields): string {
  return fields.mediaType ?? (fields.manifests !== undefined ? MediaType.OciIndex : MediaType.OciManifest);
}

/**
 * A referrer as the OCI referrers API lists it: artifactType is the manifest's artifactType, else its config
 * media type; annotations are the manifest's own.
 */
export function referrerDescriptor(mediaType: string, digest: string, size: number, fields: ManifestFields): Descriptor {
  const descriptor: Descriptor = { mediaType, digest, size };
  const artifactType = fields.artifactType ?? fields.configMediaType;
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  if (fields.annotations !== undefined) descriptor.annotations = fields.annotations;
  return descriptor;
}
