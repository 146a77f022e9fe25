import { OciError } from '../errors.js';
import { openRepository } from '../oci/open.js';
import type { Descriptor } from '../oci/types.js';
import { formatReference, manifestReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { VerifyPolicy, VerifyReport } from '../signing/index.js';
import type { OpContext } from './context.js';

export interface VerifyResult extends VerifyReport {
  reference: string;
}

/** Resolve a reference to its manifest descriptor, failing clearly when it does not exist. */
export async function resolveDescriptor(repo: { resolve(ref: string, o?: { signal?: AbortSignal }): Promise<Descriptor | undefined> }, ref: ArtifactReference, signal: AbortSignal): Promise<Descriptor> {
  const descriptor = await repo.resolve(manifestReference(ref), { signal });
  if (!descriptor) {
    throw new OciError('MANIFEST_UNKNOWN', `${formatReference(ref)} was not found`, { hint: 'check the tag with the list command' });
  }
  return descriptor;
}

/** Resolve the tag to a digest first, then check every signature against that digest. */
export async function verify(ref: ArtifactReference, policy: VerifyPolicy, ctx: OpContext): Promise<VerifyResult> {
  const { validatePolicy, verifyArtifact } = await import('../signing/index.js');
  validatePolicy(policy);
  const repo = await openRepository(ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    ctx.onStep?.(`resolving ${formatReference(ref)}`);
    const descriptor = await resolveDescriptor(repo, ref, ctx.signal);
    ctx.onStep?.(`verifying ${descriptor.digest}`);
    const report = await verifyArtifact(repo, descriptor, policy, { signal: ctx.signal });
    return { ...report, reference: formatReference(withVersion(ref, { tag: ref.tag, digest: descriptor.digest })) };
  } finally {
    await repo.close();
  }
}
