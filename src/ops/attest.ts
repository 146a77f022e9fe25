import { openRepository } from './support/open-repository.js';
import type { Descriptor } from '../oci/types.js';
import { formatReference, withVersion, type ArtifactReference } from '../ref/reference.js';
import type { KeylessOptions } from '../signing/index.js';
import type { OpContext } from './support/context.js';
import { fetchManifest } from './support/fetch-artifact.js';

/** What to attest: a predicate file of a cosign `--type` (or predicate type URI), or a predicate already made. */
export type PredicateSource = { type: string; path: string } | { predicateType: string; predicate: unknown };

export interface AttestOpOptions {
  predicate: PredicateSource;
  keyPath?: string;
  password?: string;
  keyless?: KeylessOptions;
  /** The manifest the caller has just pushed (`push --provenance`): attested as is, not fetched again. */
  subject?: Descriptor;
}

export interface AttestOpResult {
  reference: string;
  digest: string;
  kind: 'attestation';
  predicateType: string;
  /** Digest of the referrer manifest holding the attestation bundle. */
  location: string;
  /** Keyless: the certificate identity and OIDC issuer the attestation was made for. */
  signer?: { identity: string; issuer: string };
}

/**
 * The SLSA v1 provenance of the CI run in `env`, for `push --provenance`: made before the push, so that outside
 * CI the push stops before writing anything.
 */
export async function ciProvenance(env: Record<string, string | undefined>): Promise<PredicateSource> {
  const { slsaProvenanceFromCi } = await import('../signing/attest/slsa-provenance.js');
  const { SLSA_PROVENANCE_V1 } = await import('../signing/attest/predicate.js');
  return { predicateType: SLSA_PROVENANCE_V1, predicate: slsaProvenanceFromCi(env) };
}

/** Attach a signed in-toto attestation to what a reference points to now (resolved to its digest first). */
export async function attest(ref: ArtifactReference, options: AttestOpOptions, ctx: OpContext): Promise<AttestOpResult> {
  const { attestArtifact } = await import('../signing/attest/attest.js');
  const { predicateTypeOf, readPredicateFile } = await import('../signing/attest/predicate.js');
  const { identitySource } = await import('../signing/index.js');
  const source = options.predicate;
  // Bad flags and files fail before the registry is asked anything; keyless needs an identity.
  const { predicateType, predicate } = 'path' in source
    ? { predicateType: predicateTypeOf(source.type), predicate: readPredicateFile(source.type, source.path) }
    : source;
  if (options.keyless) identitySource(options.keyless.identityToken);
  const repo = await openRepository(ref, { ...ctx.repositoryOptions, signal: ctx.signal });
  try {
    const descriptor = options.subject ?? (await fetchManifest(repo, ref, ctx.signal)).descriptor;
    ctx.onStep?.(`attesting ${descriptor.digest} (${predicateType})`);
    const name = ref.kind === 'registry' ? `${ref.registry}/${ref.repository}` : undefined;
    const written = await attestArtifact(repo, descriptor, {
      predicateType,
      predicate,
      keyPath: options.keyPath,
      password: options.password,
      keyless: options.keyless,
      ...(name ? { name } : {}),
      signal: ctx.signal,
    });
    return { reference: formatReference(withVersion(ref, { digest: descriptor.digest })), digest: descriptor.digest, ...written };
  } finally {
    await repo.close();
  }
}
