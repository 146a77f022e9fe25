/**
 * cosign-compatible signing of one artifact: with a key file (a simple-signing layer in the `sha256-<hex>.sig`
 * manifest, or a Sigstore bundle v0.3 with a DSSE in-toto statement as a referrer; no transparency log upload:
 * offline signatures, which cosign verifies with --insecure-ignore-tlog), or keyless (keyless.ts: a Fulcio
 * certificate and a Rekor entry). The bytes go to the repository through signature-writer.ts.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { usageError } from '../errors.js';
import { Annotation, MediaType } from '../oci/mediatypes.js';
import type { Descriptor, Repository } from '../oci/types.js';
import { IN_TOTO_PAYLOAD_TYPE } from './cosign-verify.js';
import { loadPrivateKeyFile, signWithKey, spkiDer } from './keys.js';
import { signStatement, simpleSigningPayload, writeBundleReferrer, writeLegacySignature } from './signature-writer.js';
import type { SignOptions, SignResult } from './types.js';

/** DSSE pre-authentication encoding. */
function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** A keyed DSSE bundle over an in-toto statement (signatures and attestations alike). */
export function keyedBundle(statement: Buffer, key: KeyObject): Buffer {
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

export async function signArtifact(repo: Repository, subject: Descriptor, options: SignOptions & { signal?: AbortSignal }): Promise<SignResult> {
  const name = options.dockerReference ?? repo.displayName;
  const { signal } = options;
  if (options.keyless) {
    // Loaded only here: sigstore-js's signing clients are not needed for keyed signing or verification.
    const { signKeyless } = await import('./keyless.js');
    return signKeyless(repo, subject, { ...options, keyless: options.keyless, dockerReference: name }, signal);
  }
  if (options.keyPath === undefined) throw usageError('FLAG_MISSING', 'signing needs --key <private key> or --keyless');
  const key = loadPrivateKeyFile(options.keyPath, options.password);
  if (options.format === 'bundle') {
    const location = await writeBundleReferrer(repo, subject, keyedBundle(signStatement(subject, name), key), options.annotations, signal);
    return { kind: 'cosign-bundle', location };
  }
  const payload = simpleSigningPayload(subject.digest, name, options.annotations);
  const signature = signWithKey(key, payload).toString('base64');
  const location = await writeLegacySignature(repo, subject, payload, { [Annotation.CosignSignature]: signature }, signal);
  return { kind: 'cosign-legacy', location };
}
