import { OciError } from '../../errors.js';
import { openRepository } from '../../oci/open.js';
import type { Descriptor } from '../../oci/types.js';
import type { OpContext } from '../../ops/context.js';
import type { ArtifactReference } from '../../ref/reference.js';
import { verifyPolicyFromFlags } from './verify-flags.js';

/** `pull --verify`: a check run after the manifest is known and before anything is extracted. */
export async function createVerifyHook(flags: Record<string, unknown>) {
  const { validatePolicy, verifyArtifact } = await import('../../signing/index.js');
  const policy = verifyPolicyFromFlags(flags);
  validatePolicy(policy);
  return async (descriptor: Descriptor, ctx: OpContext, ref: ArtifactReference): Promise<void> => {
    const repo = await openRepository(ref, { ...ctx.repositoryOptions, signal: ctx.signal });
    try {
      const report = await verifyArtifact(repo, descriptor, policy, { signal: ctx.signal });
      if (!report.verified) {
        const reasons = report.signatures.map((s) => s.reason).join('; ') || 'no signatures found';
        throw new OciError('VERIFICATION_FAILED', `no signature of ${descriptor.digest} satisfies the policy: ${reasons}`,
          { kind: 'verification', hint: 'nothing was written' });
      }
    } finally {
      await repo.close();
    }
  };
}
