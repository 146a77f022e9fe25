/**
 * Running @sigstore/verify offline on a bundle, and shaping legacy cosign signatures into bundles it accepts.
 * sigstore-js checks the certificate chain against the trusted root at the log's integrated time, the SCTs, the
 * transparency log entry (SET and/or inclusion proof) and the signature; identity matching and the OCI subject
 * are ours (its issuer policy is exact-match only and it never sees the artifact digest).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { Verifier, toSignedEntity, type TrustMaterial, type VerifierOptions } from '@sigstore/verify';
import { parseRekorAnnotation } from './rekor.js';

export type SigstoreOutcome = { ok: true; san?: string; issuer?: string } | { ok: false; reason: string };

function describe(err: unknown, keyName: string | undefined): string {
  const code = (err as { code?: string }).code ?? '';
  const message = (err as Error).message ?? String(err);
  if (code === 'SIGNATURE_ERROR') return keyName ? `signature does not match key ${keyName}` : 'signature does not match the certificate key';
  if (code.startsWith('TLOG_')) return `transparency log entry rejected: ${message}`;
  if (code === 'CERTIFICATE_ERROR') return `certificate rejected: ${message}`;
  if (code === 'TIMESTAMP_ERROR') return `timestamp rejected: ${message}`;
  if (code === 'PUBLIC_KEY_ERROR') return `public key rejected: ${message}`;
  return message;
}

export function runSigstoreVerifier(
  bundle: Bundle,
  artifact: Buffer | undefined,
  trust: TrustMaterial,
  options: VerifierOptions,
  keyName?: string,
): SigstoreOutcome {
  try {
    const signer = new Verifier(trust, options).verify(toSignedEntity(bundle, artifact));
    return { ok: true, san: signer.identity?.subjectAlternativeName, issuer: signer.identity?.extensions?.issuer };
  } catch (err) {
    return { ok: false, reason: describe(err, keyName) };
  }
}

/** Parse and validate a serialized bundle; a reason instead of a throw when it is not one. */
export function parseBundle(json: unknown): Bundle | string {
  try {
    return bundleFromJSON(json);
  } catch (err) {
    return `not a valid Sigstore bundle: ${(err as Error).message}`;
  }
}

/**
 * A legacy keyless signature (payload + signature + Fulcio leaf + Rekor bundle annotation) as a v0.1
 * message-signature bundle: x509 chain [leaf], one tlog entry carrying the SET as its inclusion promise.
 */
export function legacyKeylessBundle(payload: Buffer, signatureB64: string, certificatePem: string, rekorAnnotation: string | undefined): Bundle | string {
  let leaf: Buffer;
  try {
    leaf = new X509Certificate(certificatePem).raw;
  } catch {
    return 'certificate annotation is not a PEM certificate';
  }
  const tlogEntries: unknown[] = [];
  if (rekorAnnotation !== undefined) {
    const ann = parseRekorAnnotation(rekorAnnotation);
    if (!ann) return 'Rekor bundle annotation is malformed';
    let kind: string | undefined;
    let version: string | undefined;
    try {
      const body = JSON.parse(Buffer.from(ann.Payload.body, 'base64').toString('utf8')) as { kind?: string; apiVersion?: string };
      kind = body.kind;
      version = body.apiVersion;
    } catch {
      return 'Rekor entry body is not JSON';
    }
    tlogEntries.push({
      logIndex: String(ann.Payload.logIndex),
      logId: { keyId: Buffer.from(ann.Payload.logID, 'hex').toString('base64') },
      kindVersion: { kind, version },
      integratedTime: String(ann.Payload.integratedTime),
      inclusionPromise: { signedEntryTimestamp: ann.SignedEntryTimestamp },
      canonicalizedBody: ann.Payload.body,
    });
  }
  return parseBundle({
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: { certificates: [{ rawBytes: leaf.toString('base64') }] },
      tlogEntries,
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(payload).digest('base64') },
      signature: signatureB64,
    },
  });
}
