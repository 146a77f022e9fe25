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
  /** What to sign: the manifest the reference points to now. */
  ref: ArtifactReference;
  /** The manifest the caller has just pushed (`push --sign`): signed as is, not fetched again. */
  subject?: Descriptor;
}

/** Sign what a reference points to now (resolved to its digest first), keeping existing signatures. */
export async function sign(options: SignOpOptions, ctx: OpContext): Promise<SignResult> {
  const { ref, subject, ...signOptions } = options;
  const { identitySource, signArtifact } = await import('../signing/index.js');
  // Keyless needs an identity: without one, fail in one line before the registry is asked anything.
  if (signOptions.keyless) identitySource(signOptions.keyless.identityToken);
  const repo = await openRepository(ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    const descriptor = subject ?? (await fetchManifest(repo, ref, ctx.signal)).descriptor;
    ctx.onStep?.(`signing ${descriptor.digest}`);
    const dockerReference = ref.kind === 'registry' ? `${ref.registry}/${ref.repository}` : undefined;
    const written = await signArtifact(repo, descriptor, { dockerReference, ...signOptions, signal: ctx.signal });
    return { reference: formatReference(withVersion(ref, { digest: descriptor.digest })), digest: descriptor.digest, ...written };
  } finally {
    await repo.close();
  }
}
