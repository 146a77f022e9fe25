import { Option } from '@commander-js/extra-typings';
import { usageError } from '../../errors.js';
import { reportCi } from '../ci-report.js';
import { handler, newCommand, withRuntime } from '../command.js';
import { onlyWith } from '../flag-rules.js';
import { collect, parseInteger } from '../flag-values.js';
import { ignoreOptions, withDotenvFlag, withIgnoreFlags, withProviderFlag } from '../flags.js';
import { withFluxFlags } from '../flux-flags.js';
import { keylessFlagsGiven, keylessOptions, withKeylessFlags } from '../keyless-flags.js';

/**
 * `push REF -f PATH…`: package directories, files or stdin and push them as one Flux artifact (optionally signed,
 * optionally only when the content changed); `push --all`: every artifact of oci-artifact.yaml (push-all.ts).
 */
export function pushCommand() {
  const command = newCommand('push')
    .argument('[reference]', 'oci://host/repo:tag or oci-layout://path:tag (not with --all)')
    .addOption(new Option('-f, --path <SRC[:DEST]>', "directory or file to push, placed under DEST inside the artifact (repeatable), or '-' for manifests on stdin").argParser(collect))
    .option('--source <url>', 'source URL annotation (default: git remote or CI)')
    .option('--revision <revision>', 'revision annotation, <branch>@sha1:<commit> (default: git or CI)')
    .option('-a, --annotations <key=value>', 'extra manifest annotation (repeatable)', collect)
    .option('--reproducible', 'use the epoch as created time so the same input gives the same digest')
    .option('-o, --output <format>', 'print the result as json or yaml, or as the Flux objects (flux)')
    .option('--compression-level <0-9>', 'gzip level', '6')
    .option('--sign', 'sign the pushed digest (cosign format): with --key, or keyless with the CI job\'s OIDC identity')
    .addOption(onlyWith(new Option('--key <path>', 'private key for --sign (PEM, or a cosign encrypted key with COSIGN_PASSWORD)'), 'sign'))
    .addOption(onlyWith(new Option('--sign-format <format>', 'for --sign: legacy .sig tag or a sigstore bundle referrer (as sign --format)').choices(['legacy', 'bundle'] as const).default('legacy'), 'sign'))
    .addOption(onlyWith(new Option('--provenance', 'with --sign: also attach a signed SLSA v1 provenance of the CI run (GitHub Actions, GitLab CI)'), 'sign'))
    .option('--if-changed', 'push only when the content differs from what the tag holds (default with --all)')
    .option('--no-if-changed', 'with --all: push every artifact even when its content is unchanged')
    .option('--all', 'push every artifact listed in oci-artifact.yaml (see --config)')
    .addOption(onlyWith(new Option('--config <file>', 'the artifacts file for --all').default('oci-artifact.yaml'), 'all'))
    .addOption(onlyWith(new Option('--concurrency <n>', 'with --all: artifacts pushed at once').default('4'), 'all'))
    .option('--config-media-type <type>', "config media type (default: Flux's; a registry that refuses Flux's types gets the OCI ones)")
    .option('--layer-media-type <type>', "content layer media type, a ...tar+gzip type (default: Flux's)");
  return withFluxFlags(withKeylessFlags(withDotenvFlag(withIgnoreFlags(withProviderFlag(command))), 'sign'))
    .addHelpText('after', EXAMPLES)
    .action(handler(async (reference, flags, cmd) => {
      const globals = cmd.optsWithGlobals();
      const compressionLevel = parseInteger('--compression-level', flags.compressionLevel, 0, 9);
      if (flags.all) {
        const given = [[reference !== undefined, 'a reference'], [flags.path !== undefined, '--path'], [flags.annotations !== undefined, '--annotations'],
          [flags.sign === true, '--sign'], [flags.ignorePaths !== undefined || flags.addIgnorePaths !== undefined, 'the ignore flags'],
          [flags.configMediaType !== undefined || flags.layerMediaType !== undefined, 'the media type flags'],
          [flags.fluxName !== undefined || flags.fluxPath !== undefined, '--flux-name or --flux-path (flux: { name, path } per artifact)']] as const;
        const conflict = given.find(([present]) => present);
        if (conflict !== undefined) {
          throw usageError('FLAG_CONFLICT', `--all takes the artifacts from ${flags.config}: ${conflict[1]} cannot be given with it`, `set it per artifact in ${flags.config}`);
        }
        const { pushAllCommand } = await import('./push-all.js');
        const flux = await (await import('../flux-flags.js')).fluxRequest(flags, undefined);
        return pushAllCommand({ ...flags, flux, compressionLevel, concurrency: parseInteger('--concurrency', flags.concurrency, 1, 64) ?? 4 }, globals);
      }
      if (reference === undefined) throw usageError('FLAG_INVALID', 'push needs a reference, or --all', 'e.g. oci-artifact push oci://ghcr.io/org/app:v1 -f ./deploy');
      if (flags.path === undefined) throw usageError('FLAG_INVALID', "required option '-f, --path <SRC[:DEST]>' not specified", 'give the directory or file to push');
      const { parseReference, withVersion } = await import('../../ref/reference.js');
      const { parseOutputFormat, printResult, printText } = await import('../../output/printer.js');
      const { parseAnnotationFlags } = await import('../../artifact/manifest.js');
      const ref = parseReference(reference);
      const flux = await (await import('../flux-flags.js')).fluxRequest(flags, ref);
      const format = flux?.stdout ? 'table' : parseOutputFormat(flags.output, 'table');
      // Flux takes `-a a=1,b=2` as two annotations; a comma followed by something other than `key=` stays in the value.
      const annotations = parseAnnotationFlags((flags.annotations ?? []).flatMap((v) => v.split(/,(?=[\w./-]+=)/)));
      const keylessFlags = keylessFlagsGiven(flags);
      if (flags.key !== undefined && keylessFlags.length > 0) {
        throw usageError('FLAG_CONFLICT', `${keylessFlags.join(', ')} ${keylessFlags.length > 1 ? 'are' : 'is'} for keyless signing, not with --key`, 'leave out --key to sign keyless, or the keyless flags to sign with the key');
      }
      const path = (await import('../../ops/support/source-flags.js')).sourcesOf(flags.path, process.cwd());
      if (flags.identityToken === '-' && (path === '-' || globals.passwordStdin)) {
        throw usageError('FLAG_CONFLICT', 'stdin can carry only one of the manifests (-f -), the password (--password-stdin) and the identity token (--identity-token -)');
      }
      if (path === '-' && globals.passwordStdin) {
        throw usageError('FLAG_INVALID', "stdin cannot carry both the manifests (-f -) and the password (--password-stdin)",
          'use oci-artifact login, or OCI_ARTIFACT_USERNAME/OCI_ARTIFACT_PASSWORD');
      }
      const { checkMediaTypeFlag } = await import('../../ops/support/media-type-fallback.js');
      const configMediaType = flags.configMediaType === undefined ? undefined : checkMediaTypeFlag('--config-media-type', flags.configMediaType);
      const layerMediaType = flags.layerMediaType === undefined ? undefined : checkMediaTypeFlag('--layer-media-type', flags.layerMediaType);
      const keyPath = flags.sign ? flags.key : undefined;
      // Made before anything is pushed: outside CI, --provenance stops here.
      const provenance = flags.provenance ? await (await import('../../ops/attest.js')).ciProvenance(process.env) : undefined;
      const keyless = flags.sign && keyPath === undefined ? await keylessOptions(flags) : undefined;
      // Without an identity to sign with, stop before anything is pushed.
      if (keyless !== undefined) (await import('../../signing/index.js')).identitySource(keyless.identityToken);
      const password = keyPath === undefined ? undefined : await (await import('../key-password.js')).readKeyPassword(keyPath);
      return withRuntime(globals, async ({ ctx, reporter }) => {
        const { push } = await import('../../ops/push.js');
        const result = await push({
          ref,
          path,
          source: flags.source,
          revision: flags.revision,
          annotations,
          reproducible: flags.reproducible,
          ...ignoreOptions(flags),
          compressionLevel,
          ifChanged: flags.ifChanged === true,
          configMediaType,
          layerMediaType,
        }, ctx);
        let signatures: string | undefined;
        let signer: { identity: string; issuer: string } | undefined;
        if (!result.pushed) {
          reporter.success(`unchanged: ${result.reference} already holds this content${result.revision ? ` (pushed from ${result.revision})` : ''}; nothing pushed`);
        } else {
          const uploaded = Object.values(result.blobs).filter((b) => b === 'uploaded').length;
          reporter.success(`pushed ${result.reference}${uploaded === 0 ? ' (content unchanged, nothing uploaded)' : ''}`);
          if (flags.sign) {
            const { sign } = await import('../../ops/sign.js');
            const subject = result.manifest; // just written: signed without fetching it again
            const signed = await sign({ ref: withVersion(ref, { digest: result.digest }), keyPath, password, keyless, format: flags.signFormat, subject }, ctx);
            reporter.success(`signed ${signed.reference} (${signed.kind})${signed.signer ? ` as ${signed.signer.identity}` : ''}`);
            signer = signed.signer;
            signatures = `signed (${signed.kind})`;
            if (provenance !== undefined) {
              const { attest } = await import('../../ops/attest.js');
              const attested = await attest(withVersion(ref, { digest: result.digest }), { predicate: provenance, keyPath, password, keyless, subject: result.manifest }, ctx);
              reporter.success(`attested ${attested.reference} (${attested.predicateType})`);
              signatures += `, provenance attested`;
            }
          }
        }
        // Written before the CI reports: a Flux file that cannot be made fails the run with nothing reported.
        const fluxText = flux === undefined || ref.kind !== 'registry' ? undefined : await (async () => {
          const { emitFlux, fluxProvider, fluxSourceFor, fluxVerification } = await import('../flux-flags.js');
          const { reachedOverPlainHttp } = await import('../../ops/support/plain-http.js');
          const verify = fluxVerification(!flags.sign ? { kind: 'none' } : keyPath !== undefined ? { kind: 'key' }
            : { kind: 'keyless', trustedRoot: keyless?.trustedRootPath !== undefined, signer });
          const source = await fluxSourceFor(flux, {
            ref, digest: result.digest, layerMediaType: result.layer.mediaType, plainHttp: reachedOverPlainHttp(ref, ctx.repositoryOptions),
          }, { provider: fluxProvider(flags.provider, globals.registryProvider), verify });
          const text = await emitFlux(flux, [source]);
          if (flux.file !== undefined) reporter.success(`wrote the Flux objects for ${result.digest} to ${flux.file}`);
          return text;
        })();
        await reportCi('push', { url: result.url, digest: result.digest, reference: result.reference, source: result.source, revision: result.revision, signatures, pushed: result.pushed }, flags.dotenv);
        if (flux?.stdout) printText(process.stdout, fluxText ?? '');
        else await printResult(process.stdout, format, { url: result.url, repository: result.repository, tag: result.tag, digest: result.digest, pushed: result.pushed }, () => `${result.url}\n`);
        return 0;
      });
    }));
}

const EXAMPLES = `
Examples:
  # Push the manifests in ./deploy, taking source and revision from git or the CI environment
  oci-artifact push oci://ghcr.io/org/app-manifests:v1.0.0 --path ./deploy

  # The same, Flux style, with explicit provenance and credentials
  oci-artifact push oci://ghcr.io/org/app-manifests:$(git rev-parse --short HEAD) \\
    --path="./deploy" \\
    --source="$(git config --get remote.origin.url)" \\
    --revision="$(git branch --show-current)@sha1:$(git rev-parse HEAD)" \\
    --creds flux:$GITHUB_TOKEN

  # Push the output of kustomize build (stdin) to Docker Hub
  kustomize build ./overlays/prod | oci-artifact push oci://docker.io/org/app:prod -f -

  # Push and sign keyless in GitHub Actions (permissions: id-token: write), no cosign needed
  oci-artifact push oci://ghcr.io/org/app:v1 -f ./deploy --sign

  # Push and hand the digest to cosign
  oci-artifact push oci://ghcr.io/org/app:v1 -f ./deploy -o json | jq -r '.repository + "@" + .digest' | xargs cosign sign --yes

  # In CI: sign, and attach a signed SLSA v1 provenance of the run
  oci-artifact push oci://ghcr.io/org/app:v1 -f ./deploy --sign --key cosign.key --provenance

  # Push to Amazon ECR with the ambient AWS identity
  oci-artifact push oci://123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1 -f ./deploy --provider aws

  # One artifact from several sources, pushed only when its content changed (Flux sees no new digest otherwise)
  oci-artifact push oci://ghcr.io/org/web:prod -f apps/web/base:base -f apps/web/prod:prod --if-changed

  # Every artifact of oci-artifact.yaml, unchanged ones skipped
  oci-artifact push --all

  # Hand Flux the pushed digest: an OCIRepository pinned to it (verify set up as signed) and a Kustomization
  # applying ./prod of the artifact, written to flux/web.yaml (-o flux prints them instead)
  oci-artifact push oci://ghcr.io/org/web:prod -f apps/web --sign --key cosign.key --if-changed \\
    --emit-flux flux/web.yaml --flux-path ./prod --flux-interval 10m

  # The same for every artifact of oci-artifact.yaml, one file (names, paths: flux: keys per artifact)
  oci-artifact push --all --emit-flux flux/artifacts.yaml

  # Push to GitLab's registry with the standard OCI media types (it refuses Flux's; without the flags the push
  # falls back to these by itself and says so)
  oci-artifact push oci://registry.gitlab.com/group/app:v1 -f ./deploy \\
    --config-media-type application/vnd.oci.image.config.v1+json --layer-media-type application/vnd.oci.image.layer.v1.tar+gzip

  # Push to a local OCI layout (no registry needed)
  oci-artifact push oci-layout://./store:v1 -f ./deploy --reproducible
`;
