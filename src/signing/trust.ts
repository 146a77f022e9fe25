/**
 * Sigstore trust material: Fulcio CAs, Rekor and CT log keys, TSAs. From a `trusted_root.json` (offline), from a
 * lone Rekor public key, or from the public-good TUF repository when online and nothing was supplied.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { getTrustedRoot } from '@sigstore/tuf';
import { toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import { OciError } from '../errors.js';
import { spkiDer } from './keys.js';

export type TLogAuthority = TrustMaterial['tlogs'][number];

const ALL_TIME = { start: new Date(0), end: new Date(8.64e15) };

export function loadTrustedRootFile(path: string): TrustMaterial {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new OciError('TRUSTED_ROOT_INVALID', `cannot read trusted root ${path}: ${(err as Error).message}`, { kind: 'usage', cause: err });
  }
  try {
    return toTrustMaterial(TrustedRoot.fromJSON(json));
  } catch (err) {
    throw new OciError('TRUSTED_ROOT_INVALID', `${path} is not a Sigstore trusted_root.json: ${(err as Error).message}`, {
      kind: 'usage',
      cause: err,
    });
  }
}

/** A Rekor log known only by its public key: its log ID is the SHA-256 of the key's SubjectPublicKeyInfo. */
export function rekorAuthority(key: KeyObject): TLogAuthority {
  return { logID: createHash('sha256').update(spkiDer(key)).digest(), baseURL: '', publicKey: key, validFor: ALL_TIME };
}

/** Public-good trust root through TUF (network). Any failure becomes one clear error pointing at --trusted-root. */
export async function fetchPublicGoodTrustMaterial(): Promise<TrustMaterial> {
  try {
    return toTrustMaterial(await getTrustedRoot({ retry: false, timeout: 10_000 }));
  } catch (err) {
    throw new OciError('TRUSTED_ROOT_UNAVAILABLE', `cannot fetch the Sigstore public-good trusted root: ${(err as Error).message}`, {
      kind: 'usage',
      cause: err,
      hint: 'pass --trusted-root with a trusted_root.json (e.g. from `cosign trusted-root create` or the sigstore TUF repository) to verify offline',
    });
  }
}

export function offlineTrustRootError(): OciError {
  return new OciError('TRUSTED_ROOT_REQUIRED', 'keyless verification needs a Sigstore trusted root and network access is disabled', {
    kind: 'usage',
    hint: 'pass --trusted-root with a trusted_root.json to verify offline',
  });
}
