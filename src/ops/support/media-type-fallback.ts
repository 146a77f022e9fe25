import { isGzipTarLayer } from '../../artifact/manifest.js';
import { isOciError, OciError, usageError } from '../../errors.js';
import { MediaType } from '../../oci/mediatypes.js';

/**
 * Registries that refuse Flux's media types (GitLab answers the manifest PUT with `400 MANIFEST_INVALID`, detail
 * `unknown media type: application/vnd.cncf.flux.config.v1+json`, and checks layer types against an allowlist):
 * how such a refusal is recognised, and the standard OCI types a push falls back to. Flux's source-controller
 * reads either (it extracts any gzip'd tar layer), and so do pull, diff and verify (artifact/manifest.ts).
 */

/** The types of the one fallback push: what every registry accepts for an image. */
export const STANDARD_TYPES = { config: MediaType.OciConfig, layer: MediaType.OciLayerTarGzip } as const;

/** A media type as RFC 6838 writes it: `type/subtype`, restricted name characters. */
const MEDIA_TYPE = /^[A-Za-z0-9][\w!#$&^.+-]{0,126}\/[A-Za-z0-9][\w!#$&^.+-]{0,126}$/;

/** Check a `--config-media-type` / `--layer-media-type` value; the layer is always a gzip'd tar, so its type says so. */
export function checkMediaTypeFlag(flag: '--config-media-type' | '--layer-media-type', value: string): string {
  if (!MEDIA_TYPE.test(value)) {
    throw usageError('FLAG_INVALID', `${flag} '${value}' is not a media type`, `write it as type/subtype, e.g. ${flag === '--layer-media-type' ? STANDARD_TYPES.layer : STANDARD_TYPES.config}`);
  }
  if (flag === '--layer-media-type' && !isGzipTarLayer(value)) {
    throw usageError('FLAG_INVALID', `--layer-media-type '${value}' does not name a gzip'd tar, which is what the layer holds`,
      `use a type ending in tar+gzip, e.g. ${STANDARD_TYPES.layer}`);
  }
  return value;
}

/**
 * What a registry said about the media type it refused, for a 400/415 answer to a manifest PUT that names a media
 * type as the problem in an error's message or detail (as GitLab and Distribution-based registries write it);
 * undefined for any other error.
 */
export function mediaTypeRefusal(err: unknown): string | undefined {
  if (!isOciError(err) || err.kind !== 'registry') return undefined;
  const details = err.details as { status?: number; errors?: { message?: string; detail?: unknown }[] } | undefined;
  if (details?.status !== 400 && details?.status !== 415) return undefined;
  const said = (details.errors ?? [])
    .map((e) => (typeof e.detail === 'string' ? e.detail : e.message ?? ''))
    .filter((text) => /media ?type/i.test(text));
  return said.length > 0 ? said.join('; ') : undefined;
}

/** The error for a refusal of types the user chose: the registry's words, and the way out. */
export function chosenTypesRefused(err: OciError, refusal: string): OciError {
  return new OciError(err.code, `${err.message} (${refusal})`, {
    kind: err.kind,
    cause: err,
    details: err.details,
    hint: `choose types the registry accepts, or leave out --config-media-type/--layer-media-type to fall back to ${STANDARD_TYPES.config} and ${STANDARD_TYPES.layer}`,
  });
}
