import { openRepository } from '../oci/open.js';
import { formatReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { VerifyPolicy, VerifyReport } from '../signing/index.js';
import type { OpContext } from './context.js';
import { fetchManifest } from './fetch-artifact.js';

export interface VerifyResult extends VerifyReport {
  reference: string;
}

/** Resolve the tag to a digest first, then check every signature against that digest. */
export async function verify(ref: ArtifactReference, policy: VerifyPolicy, ctx: OpContext): Promise<VerifyResult> {
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
