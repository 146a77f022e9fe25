import { join } from 'node:path';
import { parseDigest } from '../ref/digest.js';

/** File names of an OCI image layout (image-spec image-layout.md) and the only place they are spelled. */
export const LAYOUT_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
export const BLOBS_DIR = 'blobs';
export const LOCK_FILE = 'index.json.lock';
export const LAYOUT_VERSION = '1.0.0';
/** The annotation that carries a tag on an index.json entry. */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * Path of a blob. The digest is parsed first (algorithm from a fixed list, hex of the exact length), so the
 * file name can never contain a separator, `..` or anything else that leaves `blobs/<alg>/`.
 */
export function blobPath(root: string, digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return join(root, BLOBS_DIR, algorithm, hex);
}

export function blobDir(root: string, algorithm: string): string {
  return join(root, BLOBS_DIR, algorithm);
}
