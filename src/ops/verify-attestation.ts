import { openRepository } from './support/open-repository.js';
import { formatReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { AttestationReport } from '../signing/attest/verify.js';
import type { VerifyPolicy } from '../signing/index.js';
import type { OpContext } from './support/context.js';
import { fetchManifest } from './support/fetch-artifact.js';

export interface VerifyAttestationResult extends AttestationReport {
  reference: string;
}

/**
 * `verify --attestation TYPE` (a cosign `--type` name or a predicate type URI): resolve the tag to a digest, then
 * check the attestations of that predicate type.
 */
export async function verifyAttestation(ref: ArtifactReference, policy: VerifyPolicy, type: string, ctx: OpContext): Promise<VerifyAttestationResult> {
  const { prepareAttestationPolicy, verifyAttestations } = await import('../signing/attest/verify.js');
  const { predicateTypeOf } = await import('../signing/attest/predicate.js');
  const predicateType = predicateTypeOf(type);
  prepareAttestationPolicy(policy); // bad flags fail before any request
  const repo = await openRepository(ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    const { descriptor } = await fetchManifest(repo, ref, ctx.signal);
    ctx.onStep?.(`verifying ${predicateType} attestations of ${descriptor.digest}`);
    const report = await verifyAttestations(repo, descriptor, policy, predicateType, { signal: ctx.signal });
    return { ...report, reference: formatReference(withVersion(ref, { tag: ref.tag, digest: descriptor.digest })) };
  } finally {
    await repo.close();
  }
}
