import { openRepository } from './support/open-repository.js';
import { formatReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { Descriptor } from '../oci/types.js';
import type { SignOptions } from '../signing/index.js';
import type { OpContext } from './support/context.js';
import { fetchManifest } from './support/fetch-artifact.js';

export interface SignResult {
  reference: string;
  digest: string;
  kind: string;
  location: string;
  /** Keyless: the certificate identity and OIDC issuer the signature was made for. */
  signer?: { identity: string; issuer: string };
}

export interface SignOpOptions extends SignOptions {
  /** The manifest the caller has just pushed (`push --sign`): signed as is, not fetched again. */
  subject?: Descriptor;
}

/** Sign what a reference points to now (resolved to its digest first), keeping existing signatures. */
export async function sign(ref: ArtifactReference, options: SignOpOptions, ctx: OpContext): Promise<SignResult> {
  const { identitySource, signArtifact } = await import('../signing/index.js');
  // Keyless needs an identity: without one, fail in one line before the registry is asked anything.
  if (options.keyless) identitySource(options.keyless.identityToken);
  const repo = await openRepository(ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    const descriptor = options.subject ?? (await fetchManifest(repo, ref, ctx.signal)).descriptor;
    ctx.onStep?.(`signing ${descriptor.digest}`);
    const dockerReference = ref.kind === 'registry' ? `${ref.registry}/${ref.repository}` : undefined;
    const written = await signArtifact(repo, descriptor, { dockerReference, ...options, signal: ctx.signal });
    return { reference: formatReference(withVersion(ref, { digest: descriptor.digest })), digest: descriptor.digest, ...written };
  } finally {
    await repo.close();
  }
}
