import { OciError, EXIT_CODES, usageError } from '../../errors.js';
import type { ArtifactOutcome } from '../../ops/push-all.js';
import type { ConfigFile } from '../../ops/support/config-file.js';
import type { RepositoryOptions } from '../../ops/support/open-repository.js';
import { reportCiAll } from '../ci-report.js';
import { withRuntime } from '../command.js';
import type { FluxRequest } from '../flux-flags.js';
import type { RuntimeFlags } from '../runtime.js';

/** The flags of `push --all` (a part of the push command, push.ts): the artifacts themselves come from the file. */
export interface PushAllFlags {
  config: string;
  concurrency: number;
  ifChanged?: boolean;
  source?: string;
  revision?: string;
  reproducible?: boolean;
  compressionLevel?: number;
  resolveSymlinks?: boolean;
  output?: string;
  dotenv?: string;
  /** --emit-flux / -o flux: one OCIRepository (and Kustomization) per artifact, named after the artifact. */
  flux?: FluxRequest;
  provider?: string;
}

/**
 * `push --all`: one table (or `-o json|yaml` list) of every artifact's outcome. Any failure fails the run, once every
 * artifact finished: each failed one is named with its error, and the exit status is that of the first failed
 * artifact in file order.
 */
export async function pushAllCommand(flags: PushAllFlags, globals: RuntimeFlags): Promise<number> {
  const { parseOutputFormat, printResult, printText, renderTable } = await import('../../output/printer.js');
  const { pushAll, readPushAllFile } = await import('../../ops/push-all.js');
  const { redactSecrets } = await import('../../secrets.js');
  const format = flags.flux?.stdout ? 'table' : parseOutputFormat(flags.output, 'table');
  const file = await readPushAllFile(flags.config, {});
  const fluxNames = flags.flux === undefined ? undefined : await fluxObjectNames(flags.flux, file);
  // Passwords of encrypted signing keys are asked for once each, before anything is pushed.
  const keyPasswords = new Map<string, string | undefined>();
  const { readKeyPassword } = await import('../key-password.js');
  for (const artifact of file.artifacts) {
    if (artifact.sign !== undefined && !keyPasswords.has(artifact.sign.key)) keyPasswords.set(artifact.sign.key, await readKeyPassword(artifact.sign.key));
  }
  return withRuntime(globals, async ({ ctx, reporter }) => {
    const result = await pushAll({
      file,
      ifChanged: flags.ifChanged !== false,
      concurrency: flags.concurrency,
      source: flags.source,
      revision: flags.revision,
      reproducible: flags.reproducible,
      compressionLevel: flags.compressionLevel,
      resolveSymlinks: flags.resolveSymlinks,
      keyPasswords,
    }, ctx);
    const counts = (status: string) => result.artifacts.filter((a) => a.status === status).length;
    reporter.success(`${counts('pushed')} pushed, ${counts('unchanged')} unchanged, ${counts('failed')} failed (${file.path})`);
    const message = (err: unknown) => redactSecrets(err instanceof Error ? err.message : String(err));
    for (const failed of result.failed) reporter.error(`${failed.name}: ${message(failed.error)}`);
    // Only for a run where every artifact was pushed or found unchanged: never a file missing some of them.
    const fluxText = flags.flux === undefined || result.failed.length > 0 ? undefined : await emitFluxAll(flags.flux, file, fluxNames!, result.artifacts, [flags.provider, globals.registryProvider], ctx.repositoryOptions);
    if (fluxText !== undefined && flags.flux?.file !== undefined) reporter.success(`wrote the Flux objects of ${result.artifacts.length} artifacts to ${flags.flux.file}`);
    await reportCiAll(result.artifacts.map(({ name, reference, status, digest, url }) => ({ name, reference, status, digest, url })), flags.dotenv);
    if (flags.flux?.stdout) {
      if (fluxText !== undefined) printText(process.stdout, fluxText);
    } else {
      const document = result.artifacts.map(({ error, layerMediaType, ...artifact }) => (error === undefined ? artifact : { ...artifact, error: message(error) }));
      await printResult(process.stdout, format, document, () => renderTable(['NAME', 'STATUS', 'REFERENCE', 'DIGEST', 'TAGS'],
        result.artifacts.map((a) => [a.name, a.status, a.reference, a.digest ?? '', a.tags.join(',')])));
    }
    const failure = pushAllFailure(result.failed, result.artifacts.length);
    if (failure === undefined) return 0;
    throw failure;
  });
}

/**
 * The error that ends a run with failed artifacts: its kind, hence the exit status, is that of the first failed
 * artifact in file order; an error that is no OciError is a bug, and exits as internal errors do (70).
 */
export function pushAllFailure(failed: readonly Pick<ArtifactOutcome, 'name' | 'error'>[], total: number): OciError | undefined {
  const first = failed[0];
  if (first === undefined) return undefined;
  const kind = first.error instanceof OciError ? first.error.kind : 'internal';
  return new OciError('PUSH_ALL_FAILED', `${failed.length} of ${total} artifacts failed: ${failed.map((a) => a.name).join(', ')}`, {
    kind,
    hint: `the others were pushed; exit status ${EXIT_CODES[kind]} is that of '${first.name}'`,
  });
}

/**
 * Checked before anything is pushed: every artifact is in a registry, and no two Flux objects get the same
 * namespace and name (an artifact's name made a Kubernetes name, unless its flux.name says).
 */
async function fluxObjectNames(request: FluxRequest, file: ConfigFile): Promise<string[]> {
  const { fluxName } = await import('../../ops/support/flux-fields.js');
  const seen = new Map<string, string>();
  return file.artifacts.map((artifact) => {
    if (artifact.ref.kind !== 'registry') throw usageError('FLAG_CONFLICT', `${artifact.name}: Flux reads artifacts from a registry, not from an OCI layout`, 'push to oci:// references for --emit-flux and -o flux');
    const name = artifact.flux?.name ?? fluxName(artifact.name);
    const id = `${artifact.flux?.namespace ?? request.namespace}/${name}`;
    const other = seen.get(id);
    if (other !== undefined) throw usageError('FLAG_CONFLICT', `${other} and ${artifact.name} would both make the Flux objects ${id}`, `give one of them flux: { name: ... } in ${file.path}`);
    seen.set(id, artifact.name);
    return name;
  });
}

/** The Flux objects of every artifact of the run, in file order, each named after its artifact unless flux.name says. */
async function emitFluxAll(
  request: FluxRequest,
  file: ConfigFile,
  names: string[],
  outcomes: ArtifactOutcome[],
  providers: [command: string | undefined, global: string | undefined],
  repositoryOptions: RepositoryOptions,
): Promise<string> {
  const { emitFlux, fluxProvider, fluxSourceFor, fluxVerification } = await import('../flux-flags.js');
  const provider = fluxProvider(...providers);
  const { reachedOverPlainHttp } = await import('../../ops/support/plain-http.js');
  const sources = await Promise.all(file.artifacts.map(async (artifact, i) => {
    const outcome = outcomes[i]!;
    if (artifact.ref.kind !== 'registry') throw new OciError('INTERNAL', 'fluxObjectNames lets only registry references through');
    return fluxSourceFor({ ...request, namespace: artifact.flux?.namespace ?? request.namespace, interval: artifact.flux?.interval ?? request.interval }, {
      ref: artifact.ref, digest: outcome.digest!, layerMediaType: outcome.layerMediaType!, plainHttp: reachedOverPlainHttp(artifact.ref, repositoryOptions),
    }, {
      provider,
      verify: fluxVerification(artifact.sign === undefined ? { kind: 'none' } : { kind: 'key' }),
      name: names[i]!,
      path: artifact.flux?.path,
    });
  }));
  return emitFlux(request, sources);
}
