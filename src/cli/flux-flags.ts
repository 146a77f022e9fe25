import type { Command, OptionValues } from '@commander-js/extra-typings';
import { OciError, usageError } from '../errors.js';
import type { FluxSource, FluxVerification } from '../output/flux.js';
import type { ArtifactReference } from '../ref/reference.js';

/**
 * The flags of `push --emit-flux FILE` and `push -o flux`: what the Flux objects for the pushed artifact are named,
 * where they live, how often Flux looks, and which path of the artifact a Kustomization applies.
 */
export function withFluxFlags<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd
    .option('--emit-flux <file>', "write a Flux OCIRepository pinned to the pushed digest (and, with --flux-path, a Kustomization) to this YAML file")
    .option('--flux-name <name>', "with --emit-flux or -o flux: metadata.name (default: the repository's last path segment)")
    .option('--flux-namespace <namespace>', 'with --emit-flux or -o flux: metadata.namespace (default: flux-system)')
    .option('--flux-interval <duration>', 'with --emit-flux or -o flux: spec.interval (default: 5m)')
    .option('--flux-path <path>', 'with --emit-flux or -o flux: also a Kustomization applying this path inside the artifact');
}

export interface FluxFlagValues {
  emitFlux?: string;
  fluxName?: string;
  fluxNamespace?: string;
  fluxInterval?: string;
  fluxPath?: string;
  output?: string;
}

/** What the Flux flags ask for, checked before anything is pushed; undefined when no Flux output was asked for. */
export interface FluxRequest {
  /** --emit-flux FILE. */
  file?: string;
  /** -o flux: the documents go to stdout instead of the result line. */
  stdout: boolean;
  name?: string;
  namespace: string;
  interval: string;
  path?: string;
}

export async function fluxRequest(flags: FluxFlagValues, ref: ArtifactReference | undefined): Promise<FluxRequest | undefined> {
  const { checkFluxInterval, checkFluxName, checkFluxNamespace, checkFluxPath, FLUX_DEFAULTS } = await import('../ops/support/flux-fields.js');
  const stdout = flags.output === 'flux';
  if (flags.emitFlux === undefined && !stdout) {
    const given = ([['fluxName', '--flux-name'], ['fluxNamespace', '--flux-namespace'], ['fluxInterval', '--flux-interval'], ['fluxPath', '--flux-path']] as const)
      .find(([key]) => flags[key] !== undefined);
    if (given !== undefined) throw usageError('FLAG_INVALID', `${given[1]} acts only with --emit-flux or -o flux`, `add --emit-flux FILE, or leave out ${given[1]}`);
    return undefined;
  }
  if (ref?.kind === 'layout') throw usageError('FLAG_CONFLICT', 'Flux reads artifacts from a registry, not from an OCI layout', 'push to an oci:// reference for --emit-flux and -o flux');
  if (flags.emitFlux !== undefined) await (await import('../output/flux.js')).checkFluxTarget(flags.emitFlux);
  return {
    file: flags.emitFlux,
    stdout,
    name: flags.fluxName === undefined ? undefined : checkFluxName('--flux-name', flags.fluxName),
    namespace: checkFluxNamespace('--flux-namespace', flags.fluxNamespace ?? FLUX_DEFAULTS.namespace),
    interval: checkFluxInterval('--flux-interval', flags.fluxInterval ?? FLUX_DEFAULTS.interval),
    path: flags.fluxPath === undefined ? undefined : checkFluxPath('--flux-path', flags.fluxPath),
  };
}

/**
 * Flux's `spec.provider`: the cloud provider the push took its registry credentials from (the command's --provider,
 * else the global --registry-provider); undefined for generic, Flux's default.
 */
export function fluxProvider(command: string | undefined, global: string | undefined): string | undefined {
  const provider = command !== undefined && command !== 'generic' ? command : global;
  return provider === 'generic' ? undefined : provider;
}

/** How `push` signed (or would have signed, when --if-changed skipped the push) the digest. */
export type PushSigning =
  | { kind: 'none' }
  | { kind: 'key' }
  | { kind: 'keyless'; trustedRoot: boolean; signer?: { identity: string; issuer: string } };

/**
 * `spec.verify` for the way the artifact was signed. Keyless matches the certificate identity this run was issued;
 * when --if-changed skipped the push nothing was signed, so that identity is not known and is not guessed.
 */
export function fluxVerification(signing: PushSigning): FluxVerification | undefined {
  if (signing.kind === 'none') return undefined;
  if (signing.kind === 'key') return { kind: 'cosign-key' };
  if (signing.signer === undefined) {
    throw new OciError('KEYLESS_IDENTITY_UNKNOWN', 'the content was unchanged, so nothing was signed keyless and no identity is known for spec.verify of the Flux objects', {
      kind: 'usage',
      hint: 'sign with --key for --emit-flux with --if-changed, or push without --if-changed',
    });
  }
  return { kind: 'cosign-keyless', issuer: signing.signer.issuer, subject: signing.signer.identity, trustedRoot: signing.trustedRoot };
}

/** The one OCIRepository (and Kustomization) for a pushed artifact. */
export async function fluxSourceFor(
  request: FluxRequest,
  pushed: { ref: ArtifactReference & { kind: 'registry' }; digest: string; layerMediaType: string; plainHttp: boolean },
  options: { provider?: string; verify?: FluxVerification; name?: string; path?: string },
): Promise<FluxSource> {
  const { fluxName } = await import('../ops/support/flux-fields.js');
  return {
    name: options.name ?? request.name ?? fluxName(pushed.ref.repository),
    namespace: request.namespace,
    repository: `${pushed.ref.registry}/${pushed.ref.repository}`,
    digest: pushed.digest,
    interval: request.interval,
    provider: options.provider,
    verify: options.verify,
    layerMediaType: pushed.layerMediaType,
    insecure: pushed.plainHttp,
    kustomizationPath: options.path ?? request.path,
  };
}

/** The documents written to the --emit-flux file and/or, for -o flux, returned for stdout. */
export async function emitFlux(request: FluxRequest, sources: FluxSource[]): Promise<string> {
  const { renderFluxDocuments, writeFluxFile } = await import('../output/flux.js');
  const text = await renderFluxDocuments(sources);
  if (request.file !== undefined) await writeFluxFile(request.file, text);
  return text;
}
