/**
 * `attest`: an in-toto statement about the artifact's manifest digest, signed in a DSSE envelope inside a Sigstore
 * bundle v0.3 (with a key, or keyless: Fulcio certificate and `dsse` Rekor entry), stored as a referrer the way
 * cosign v3 stores attestations (artifactType and layer application/vnd.dev.sigstore.bundle.v0.3+json,
 * annotations dev.sigstore.bundle.content = dsse-envelope and dev.sigstore.bundle.predicateType).
 * The bundles are made and written as cosign v3 signatures are (sign.ts, keyless.ts, signature-writer.ts).
 */
import { usageError } from '../../errors.js';
import type { Descriptor, Repository } from '../../oci/types.js';
import { loadPrivateKeyFile } from '../keys.js';
import { keyedBundle } from '../sign.js';
import { writeBundleReferrer } from '../signature-writer.js';
import type { KeylessOptions } from '../types.js';
import { inTotoStatement } from './statement.js';

export interface AttestOptions {
  predicateType: string;
  predicate: unknown;
  /** A private key file; or `keyless`. */
  keyPath?: string;
  password?: string;
  keyless?: KeylessOptions;
  /** Subject name: the repository (`registry/repo`); defaults to the repository's display name. */
  name?: string;
}

export interface AttestResult {
  kind: 'attestation';
  predicateType: string;
  /** Digest of the referrer manifest holding the bundle. */
  location: string;
  /** Keyless: the certificate identity (SAN) and its OIDC issuer. */
  signer?: { identity: string; issuer: string };
}

/** Store a signed bundle holding an attestation as a referrer of `subject`. */
export async function writeAttestationBundle(repo: Repository, subject: Descriptor, bundle: Buffer, predicateType: string, signal?: AbortSignal): Promise<string> {
  return writeBundleReferrer(repo, subject, bundle, undefined, signal, predicateType);
}

export async function attestArtifact(repo: Repository, subject: Descriptor, options: AttestOptions & { signal?: AbortSignal }): Promise<AttestResult> {
  const { predicateType, signal } = options;
  const statement = inTotoStatement(subject, options.name ?? repo.displayName, predicateType, options.predicate);
  if (options.keyless) {
    // Loaded only here: sigstore-js's signing clients are not needed for keyed attestations.
    const { keylessStatementBundle } = await import('../keyless.js');
    const { bundle, signer } = await keylessStatementBundle(statement, options.keyless);
    signal?.throwIfAborted();
    return { kind: 'attestation', predicateType, location: await writeAttestationBundle(repo, subject, bundle, predicateType, signal), signer };
  }
  if (options.keyPath === undefined) throw usageError('FLAG_MISSING', 'attest needs a private key (--key) or a keyless identity');
  const bundle = keyedBundle(statement, loadPrivateKeyFile(options.keyPath, options.password));
  return { kind: 'attestation', predicateType, location: await writeAttestationBundle(repo, subject, bundle, predicateType, signal) };
}
