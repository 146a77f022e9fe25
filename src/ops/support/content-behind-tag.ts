import { parseManifest, isImageIndex, selectContentLayer } from '../../artifact/manifest.js';
import { isOciError } from '../../errors.js';
import type { Descriptor, Repository } from '../../oci/types.js';
import { MediaType } from '../../oci/mediatypes.js';

/** What a tag holds now, as `push --if-changed` compares it: the manifest's digest and its content layer. */
export interface ContentBehindTag {
  digest: string;
  /** The manifest's descriptor (what a signature names). */
  manifest: Descriptor;
  layer: Descriptor;
  config: Descriptor;
  annotations: Record<string, string>;
}

/**
 * One manifest GET. Undefined when the tag does not exist, or holds something that is not an artifact with a
 * content layer (an index, a manifest without a gzip'd tar layer): then the push goes ahead as usual.
 */
export async function contentBehindTag(repo: Repository, tag: string, signal: AbortSignal | undefined): Promise<ContentBehindTag | undefined> {
  let fetched;
  try {
    fetched = await repo.getManifest(tag, { signal, accept: [MediaType.OciManifest, MediaType.DockerManifest] });
  } catch (err) {
    if (isOciError(err) && err.code === 'MANIFEST_UNKNOWN') return undefined;
    throw err;
  }
  let manifest;
  try {
    manifest = parseManifest(fetched.bytes, fetched.mediaType);
  } catch {
    return undefined; // whatever is there is replaced by a valid artifact
  }
  if (isImageIndex(manifest) || manifest.layers.length !== 1) return undefined;
  let layer: Descriptor;
  try {
    layer = selectContentLayer(manifest);
  } catch {
    return undefined;
  }
  return { digest: fetched.digest, manifest: { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length }, layer, config: manifest.config, annotations: manifest.annotations ?? {} };
}
