import { Code, OciError } from '../errors.js';
import { MANIFEST_MEDIA_TYPES, MAX_MANIFEST_BYTES, MediaType } from '../oci/mediatypes.js';
import type { Descriptor, FetchedManifest } from '../oci/types.js';
import { digestOf, isDigest, verifyBytes } from '../ref/digest.js';
import { streamError } from './connection-errors.js';
import { manifestUrl } from './distribution-urls.js';
import { responseError } from './registry-errors.js';
import type { RepositorySession } from './repository-session.js';
import { discardBody, mediaTypeOf, readAtMost } from './response-body.js';

/**
 * Manifests by tag or digest (distribution spec end-3 GET/HEAD, end-7 PUT, end-9 DELETE): fetched within a size
 * bound and checked to be JSON and to match their digest, described from a HEAD when the registry says enough,
 * stored byte for byte.
 */

/** How a manifest is named in messages: `manifest app:v1` or `manifest app@sha256:…`. */
function manifestWhat(session: RepositorySession, reference: string): string {
  return `manifest ${session.name}${isDigest(reference) ? '@' : ':'}${reference}`;
}

/** GET and HEAD ask for a manifest the same way: with the pull scope, accepting the media types the caller reads. */
function sendManifestRead(session: RepositorySession, method: 'GET' | 'HEAD', reference: string, accept: readonly string[], signal: AbortSignal | undefined) {
  return session.send({
    method,
    url: manifestUrl(session.name, reference),
    headers: { accept: accept.join(', ') },
    what: manifestWhat(session, reference),
    signal,
  }, session.pull);
}

export async function getManifest(
  session: RepositorySession,
  reference: string,
  signal: AbortSignal | undefined,
  accept: readonly string[] = MANIFEST_MEDIA_TYPES,
): Promise<FetchedManifest> {
  const { host } = session;
  const what = manifestWhat(session, reference);
  const res = await sendManifestRead(session, 'GET', reference, accept, signal);
  if (res.status === 404) throw asManifestUnknown(await responseError(res, host, what));
  if (res.status !== 200) throw await responseError(res, host, what);
  if (Number(res.headers['content-length'] ?? 0) > MAX_MANIFEST_BYTES) {
    discardBody(res.body);
    throw tooLarge(what, host);
  }
  let read: { bytes: Buffer; truncated: boolean };
  try {
    read = await readAtMost(res.body, MAX_MANIFEST_BYTES);
  } catch (err) {
    throw streamError(err, signal, what, host);
  }
  if (read.truncated) throw tooLarge(what, host);
  const bytes = read.bytes;
  // Checked before the digest: a proxy or captive portal answering 200 with a page must not pass for a manifest.
  const parsed = parseJsonObject(bytes);
  if (parsed === undefined) {
    throw new OciError('REGISTRY_RESPONSE_INVALID', `registry ${host} answered ${what} with ${mediaTypeOf(res.headers['content-type']) ?? 'content'} that is not a JSON manifest`, {
      hint: 'check that no proxy or captive portal answers in place of the registry',
    });
  }
  const served = res.headers['docker-content-digest'];
  const digest = isDigest(reference) ? reference : served !== undefined && isDigest(served) ? served : digestOf(bytes);
  verifyBytes(bytes, digest, undefined, `${what} from ${host}:`);
  return { bytes, digest, mediaType: manifestMediaType(res.headers['content-type'], parsed) };
}

/** The descriptor of a manifest from a HEAD; undefined when there is none. */
export async function resolveManifest(session: RepositorySession, reference: string, signal: AbortSignal | undefined): Promise<Descriptor | undefined> {
  const what = manifestWhat(session, reference);
  const res = await sendManifestRead(session, 'HEAD', reference, MANIFEST_MEDIA_TYPES, signal);
  res.body.resume();
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw await responseError(res, session.host, what);
  const served = res.headers['docker-content-digest'];
  const size = Number(res.headers['content-length']);
  const mediaType = mediaTypeOf(res.headers['content-type']);
  if (served !== undefined && isDigest(served) && Number.isSafeInteger(size) && mediaType !== undefined && isManifestType(mediaType)) {
    return { mediaType, digest: isDigest(reference) ? reference : served, size };
  }
  // The registry did not describe it fully: fetch it once and describe it ourselves.
  const fetched = await getManifest(session, reference, signal);
  return { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length };
}

/** Store `bytes` at `reference`; returns their digest, refusing a registry that says it stored something else. */
export async function putManifest(session: RepositorySession, reference: string, bytes: Buffer, mediaType: string, signal: AbortSignal | undefined): Promise<string> {
  const what = manifestWhat(session, reference);
  const digest = digestOf(bytes);
  if (isDigest(reference) && reference !== digest && reference.startsWith('sha256:')) {
    throw new OciError('DIGEST_MISMATCH', `${what}: the bytes have digest ${digest}`);
  }
  const res = await session.send({
    method: 'PUT',
    url: manifestUrl(session.name, reference),
    headers: { 'content-type': mediaType },
    body: bytes,
    what,
    signal,
  }, session.push);
  if (res.status !== 201 && res.status !== 200) throw await responseError(res, session.host, what);
  res.body.resume();
  const served = res.headers['docker-content-digest'];
  if (served !== undefined && served.startsWith('sha256:') && served !== digest) {
    throw new OciError('DIGEST_MISMATCH', `registry ${session.host} stored ${what} as ${served}, but its bytes have digest ${digest}`);
  }
  return digest;
}

export async function deleteManifest(session: RepositorySession, digest: string, signal: AbortSignal | undefined): Promise<void> {
  const what = manifestWhat(session, digest);
  const res = await session.send({ method: 'DELETE', url: manifestUrl(session.name, digest), what, signal }, session.push);
  if (res.status === 404) throw asManifestUnknown(await responseError(res, session.host, what));
  if (res.status !== 202 && res.status !== 200 && res.status !== 204) throw await responseError(res, session.host, what);
  res.body.resume();
}

/** Any 404 of a manifest is MANIFEST_UNKNOWN to callers, whatever code the registry put in its body. */
function asManifestUnknown(err: OciError): OciError {
  if (err.code === Code.ManifestUnknown) return err;
  return new OciError('MANIFEST_UNKNOWN', err.message, { kind: err.kind, hint: err.hint, cause: err, details: err.details });
}

function tooLarge(what: string, host: string): OciError {
  return new OciError('MANIFEST_TOO_LARGE', `registry ${host} served ${what} larger than ${MAX_MANIFEST_BYTES} bytes; refused`);
}

function isManifestType(type: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(type) || type.startsWith('application/vnd.');
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Content-Type when it names a manifest type, else the `mediaType` field of the JSON. */
function manifestMediaType(contentType: string | undefined, parsed: Record<string, unknown>): string {
  const type = mediaTypeOf(contentType);
  if (type !== undefined && isManifestType(type)) return type;
  if (typeof parsed.mediaType === 'string') return parsed.mediaType;
  return Array.isArray(parsed.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
}
