import { OciError } from '../errors.js';
import { openRepository } from './support/open-repository.js';
import type { Descriptor, Repository } from '../oci/types.js';
import { formatReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { VerifyPolicy, VerifyReport } from '../signing/index.js';
import type { OpContext } from './support/context.js';
import { fetchManifest } from './support/fetch-artifact.js';

export interface VerifyOptions {
  /** The artifact whose signatures are checked: its tag is resolved to a digest first. */
  ref: ArtifactReference;
  policy: VerifyPolicy;
}

export interface VerifyResult extends VerifyReport {
  reference: string;
}

/** Resolve the tag to a digest first, then check every signature against that digest. */
export async function verify({ ref, policy }: VerifyOptions, ctx: OpContext): Promise<VerifyResult> {
  const { validatePolicy, verifyArtifact } = await import('../signing/index.js');
  validatePolicy(policy);
  const repo = await openRepository(ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    ctx.onStep?.(`resolving ${formatReference(ref)}`);
    const { descriptor } = await fetchManifest(repo, ref, ctx.signal);
    ctx.onStep?.(`verifying ${descriptor.digest}`);
    const report = await verifyArtifact(repo, descriptor, policy, { signal: ctx.signal });
    return { ...report, reference: formatReference(withVersion(ref, { tag: ref.tag, digest: descriptor.digest })) };
  } finally {
    await repo.close();
  }
}

/**
 * For `pull --verify`: checks the policy now (bad flags fail before any request), and returns a check that throws
 * VERIFICATION_FAILED unless a signature of `descriptor` satisfies it. It runs on the caller's open repository.
 */
export async function signatureRequirement(policy: VerifyPolicy): Promise<(repo: Repository, descriptor: Descriptor, signal?: AbortSignal) => Promise<void>> {
  const { validatePolicy, verifyArtifact } = await import('../signing/index.js');
  validatePolicy(policy);
  return async (repo, descriptor, signal) => {
    const report = await verifyArtifact(repo, descriptor, policy, { signal });
    if (report.verified) return;
    const reasons = report.signatures.map((s) => s.reason).join('; ') || 'no signatures found';
    throw new OciError('VERIFICATION_FAILED', `no signature of ${descriptor.digest} satisfies the policy: ${reasons}`,
      { kind: 'verification', hint: 'nothing was written' });
  };
}
