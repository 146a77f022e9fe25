import { openRepository } from './support/open-repository.js';
import { formatReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { SignOptions } from '../signing/index.js';
import type { OpContext } from './support/context.js';
import { fetchManifest } from './support/fetch-artifact.js';

export interface SignResult {
  reference: string;
  digest: string;
  kind: string;
  location: string;
}

/** Sign what a reference points to now (resolved to its digest first), keeping existing signatures. */
export async function sign(ref: ArtifactReference, options: SignOptions, ctx: OpContext): Promise<SignResult> {
  const { signArtifact } = await import('../signing/index.js');
  const repo = await openRepository(ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    const { descriptor } = await fetchManifest(repo, ref, ctx.signal);
    ctx.onStep?.(`signing ${descriptor.digest}`);
    const dockerReference = ref.kind === 'registry' ? `${ref.registry}/${ref.repository}` : undefined;
    const written = await signArtifact(repo, descriptor, { dockerReference, ...options, signal: ctx.signal });
    return { reference: formatReference(withVersion(ref, { digest: descriptor.digest })), digest: descriptor.digest, ...written };
  } finally {
    await repo.close();
  }
}
