import { openRepository } from './support/open-repository.js';
import { formatReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { AttestOptions } from '../signing/attest/attest.js';
import type { OpContext } from './support/context.js';
import { fetchManifest } from './support/fetch-artifact.js';

export interface AttestOpResult {
  reference: string;
  digest: string;
  kind: 'attestation';
  predicateType: string;
  /** Digest of the referrer manifest holding the attestation bundle. */
  location: string;
}

/** Attach a signed in-toto attestation to what a reference points to now (resolved to its digest first). */
export async function attest(ref: ArtifactReference, options: Omit<AttestOptions, 'name'>, ctx: OpContext): Promise<AttestOpResult> {
  const { attestArtifact } = await import('../signing/attest/attest.js');
  const repo = await openRepository(ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    const { descriptor } = await fetchManifest(repo, ref, ctx.signal);
    ctx.onStep?.(`attesting ${descriptor.digest}`);
    const name = ref.kind === 'registry' ? `${ref.registry}/${ref.repository}` : undefined;
    const written = await attestArtifact(repo, descriptor, { ...options, ...(name ? { name } : {}), signal: ctx.signal });
    return { reference: formatReference(withVersion(ref, { digest: descriptor.digest })), digest: descriptor.digest, ...written };
  } finally {
    await repo.close();
  }
}
