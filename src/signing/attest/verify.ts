/**
 * `verify --attestation TYPE`: the Sigstore bundles referring to the artifact whose in-toto statement has that
 * predicate type, each checked as a cosign signature is (same key or keyless identity policy, the statement's
 * subject must be the artifact's digest). A verified attestation carries its predicate.
 */
import { usageError } from '../../errors.js';
import type { Descriptor, Repository } from '../../oci/types.js';
import { verifyBundleBlob } from '../cosign-verify.js';
import { findReferrerSignatures } from '../discovery.js';
import { preparePolicy, type PreparedPolicy } from '../policy.js';
import type { SignatureResult, VerifyOptions, VerifyPolicy } from '../types.js';
import { cosignContext } from '../verify-artifact.js';
import { parseStatement, type Statement } from './statement.js';

export interface AttestationResult extends SignatureResult {
  predicateType: string;
  /** The statement's predicate, only when the attestation verified. */
  predicate?: unknown;
}

export interface AttestationReport {
  digest: string;
  predicateType: string;
  verified: boolean;
  attestations: AttestationResult[];
  /** One-line summary, e.g. "1 of 2 attestations verified". */
  reason: string;
}

/** The statement a bundle's DSSE envelope carries, without checking anything yet. */
function statementOf(blob: Buffer): Statement | undefined {
  try {
    const payload = (JSON.parse(blob.toString('utf8')) as { dsseEnvelope?: { payload?: unknown } }).dsseEnvelope?.payload;
    return typeof payload === 'string' ? parseStatement(Buffer.from(payload, 'base64')) : undefined;
  } catch {
    return undefined;
  }
}

/** The policy checked and loaded (usage errors for bad flags); attestations are cosign's, never notation's. */
export function prepareAttestationPolicy(policy: VerifyPolicy): Extract<PreparedPolicy, { provider: 'cosign' }> {
  if (policy.provider !== 'cosign') {
    throw usageError('POLICY_CONFLICT', 'attestations are Sigstore bundles: verify them with --key or the keyless certificate flags, not --provider notation');
  }
  return preparePolicy(policy) as Extract<PreparedPolicy, { provider: 'cosign' }>;
}

export async function verifyAttestations(
  repo: Repository,
  subject: Descriptor,
  policy: VerifyPolicy,
  predicateType: string,
  options: VerifyOptions = {},
): Promise<AttestationReport> {
  const prepared = prepareAttestationPolicy(policy);
  const digest = subject.digest;
  const found = await findReferrerSignatures(repo, digest, 'cosign-bundle', options.signal);
  const candidates = found.flatMap((c) => {
    if (c.kind !== 'cosign-bundle') return [];
    const statement = statementOf(c.blob);
    return statement?.predicateType === predicateType ? [{ source: c.source, blob: c.blob, statement }] : [];
  });
  if (candidates.length === 0) return { digest, predicateType, verified: false, attestations: [], reason: `no ${predicateType} attestations found` };
  const ctx = await cosignContext(prepared, digest, options);
  const attestations = candidates.map(({ source, blob, statement }): AttestationResult => {
    const checked = verifyBundleBlob(source, blob, ctx, predicateType);
    return checked.verified ? { ...checked, predicateType, predicate: statement.predicate } : { ...checked, predicateType };
  });
  const ok = attestations.filter((a) => a.verified).length;
  return { digest, predicateType, verified: ok > 0, attestations, reason: `${ok} of ${attestations.length} attestation${attestations.length === 1 ? '' : 's'} verified` };
}
