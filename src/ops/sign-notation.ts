import { openRepository } from './support/open-repository.js';
import { formatReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { NotationSignOptions } from '../signing/notation/sign.js';
import type { OpContext } from './support/context.js';
import { fetchManifest } from './support/fetch-artifact.js';
import type { SignResult } from './sign.js';

/** `sign --format notation`: resolve the reference to its digest, then store a notation envelope as its referrer. */
export async function signWithNotation({ ref, ...options }: NotationSignOptions & { ref: ArtifactReference }, ctx: OpContext): Promise<SignResult> {
  const { signNotation } = await import('../signing/notation/sign.js');
  const repo = await openRepository(ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    const { descriptor } = await fetchManifest(repo, ref, ctx.signal);
    ctx.onStep?.(`signing ${descriptor.digest} (notation)`);
    const written = await signNotation(repo, descriptor, { ...options, signal: ctx.signal });
    return { reference: formatReference(withVersion(ref, { digest: descriptor.digest })), digest: descriptor.digest, ...written };
  } finally {
    await repo.close();
  }
}
