/**
 * `attest`: an in-toto statement about the artifact's manifest digest, signed in a DSSE envelope inside a Sigstore
 * bundle v0.3, stored as a referrer the way cosign v3 stores attestations (artifactType and layer
 * application/vnd.dev.sigstore.bundle.v0.3+json, annotations dev.sigstore.bundle.content = dsse-envelope and
 * dev.sigstore.bundle.predicateType = the predicate type).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Annotation, MediaType } from '../../oci/mediatypes.js';
import type { Descriptor, Repository } from '../../oci/types.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../cosign-verify.js';
import { loadPrivateKeyFile, signWithKey, spkiDer } from '../keys.js';
import { createdAnnotation, pushReferrer } from '../referrer.js';
import { inTotoStatement } from './statement.js';

export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
export const BUNDLE_PREDICATE_TYPE_ANNOTATION = 'dev.sigstore.bundle.predicateType';

export interface AttestOptions {
  predicateType: string;
  predicate: unknown;
  keyPath: string;
  password?: string;
  /** Subject name: the repository (`registry/repo`); defaults to the repository's display name. */
  name?: string;
}

export interface AttestResult {
  kind: 'attestation';
  predicateType: string;
  /** Digest of the referrer manifest holding the bundle. */
  location: string;
}

/** DSSE pre-authentication encoding (DSSE v1). */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** A keyed bundle (public key hint, no transparency log entry), as cosign writes with --key --tlog-upload=false. */
export function keyedDsseBundle(statement: Buffer, key: KeyObject): Buffer {
  const sig = signWithKey(key, preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, statement));
  const hint = createHash('sha256').update(spkiDer(createPublicKey(key))).digest('base64');
  const bundle = {
    mediaType: MediaType.SigstoreBundle,
    verificationMaterial: { publicKey: { hint }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
    dsseEnvelope: { payload: statement.toString('base64'), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
  };
  bundleFromJSON(bundle); // what we write must be what we (and cosign) can read back
  return Buffer.from(JSON.stringify(bundle));
}

/** Store a signed bundle holding an attestation as a referrer of `subject`. */
export async function writeAttestationBundle(repo: Repository, subject: Descriptor, bundle: Buffer, predicateType: string, signal?: AbortSignal): Promise<string> {
  return pushReferrer(repo, {
    artifactType: MediaType.SigstoreBundle,
    layer: { mediaType: MediaType.SigstoreBundle, bytes: bundle },
    subject,
    annotations: {
      [BUNDLE_CONTENT_ANNOTATION]: 'dsse-envelope',
      [BUNDLE_PREDICATE_TYPE_ANNOTATION]: predicateType,
      [Annotation.Created]: createdAnnotation(new Date()),
    },
  }, signal);
}

export async function attestArtifact(repo: Repository, subject: Descriptor, options: AttestOptions & { signal?: AbortSignal }): Promise<AttestResult> {
  const key = loadPrivateKeyFile(options.keyPath, options.password);
  const statement = inTotoStatement(subject, options.name ?? repo.displayName, options.predicateType, options.predicate);
  const location = await writeAttestationBundle(repo, subject, keyedDsseBundle(statement, key), options.predicateType, options.signal);
  return { kind: 'attestation', predicateType: options.predicateType, location };
}
