import { Option } from '@commander-js/extra-typings';
import { reportCi } from '../ci-report.js';
import { handler, newCommand, parseArtifactArguments, withRuntime } from '../command.js';
import { required } from '../flag-rules.js';
import { parseInteger, parseSize } from '../flag-values.js';
import { verifyPolicy, withDotenvFlag, withProviderFlag, withVerifyFlags } from '../flags.js';

/** `pull REF -o DIR`: fetch an artifact and extract its content (after checking its signatures with --verify). */
export function pullCommand() {
  const command = newCommand('pull')
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .addOption(required(new Option('-o, --output <dir>', "directory to extract into (created when missing); the artifact's files overwrite same-named files, other files are kept")))
    .option('--layer-media-type <type>', 'pick the layer with this media type')
    .option('--layer-index <n>', 'pick the layer at this position')
    .option('--max-size <size>', 'largest uncompressed size to accept, e.g. 100Mi; 0 for no limit', '100Mi')
    .option('--format <format>', 'print the result as json or yaml')
    .option('--verify', 'verify signatures before extracting (the flags of verify; --verify-provider for its --provider)');
  return withDotenvFlag(withVerifyFlags(withProviderFlag(command), '--verify-provider'))
    .addHelpText('after', EXAMPLES)
    .action(handler(async (reference, flags, cmd) => {
      const { ref, format } = await parseArtifactArguments(reference, flags.format);
      const { formatBytes } = await import('../../bytes.js');
      const { countOf } = await import('../../output/format.js');
      const { printResult } = await import('../../output/printer.js');
      const layerIndex = parseInteger('--layer-index', flags.layerIndex);
      const maxSize = parseSize('--max-size', flags.maxSize);
      // Loaded only with --verify: signing pulls in sigstore.
      const requireSignature = flags.verify
        ? await import('../../ops/verify.js').then((m) => m.signatureRequirement(verifyPolicy(flags.verifyProvider, flags)))
        : undefined;
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { pull } = await import('../../ops/pull.js');
        const result = await pull({
          ref,
          output: flags.output,
          layerMediaType: flags.layerMediaType,
          layerIndex,
          maxSize,
          beforeExtract: requireSignature === undefined ? undefined : async ({ descriptor, repo }) => {
            ctx.onStep?.('verifying signatures');
            await requireSignature(repo, descriptor, ctx.signal);
          },
        }, ctx);
        if (result.source) reporter.success(`source ${result.source}`);
        if (result.revision) reporter.success(`revision ${result.revision}`);
        reporter.success(`digest ${result.digest}`);
        reporter.success(result.mode === 'extracted'
          ? `extracted ${countOf(result.files, 'file')} (${formatBytes(result.bytes)}) to ${flags.output}`
          : `layer written to ${result.output}`);
        for (const skipped of result.skipped) reporter.notice(`skipped ${skipped}`);
        await reportCi('pull', {
          url: result.url,
          digest: result.digest,
          source: result.source,
          revision: result.revision,
          signatures: flags.verify ? 'verified' : undefined,
        }, flags.dotenv);
        await printResult(process.stdout, format, result);
        return 0;
      });
    }));
}

const EXAMPLES = `
Examples:
  # Pull and extract into ./out
  oci-artifact pull oci://ghcr.io/org/app-manifests:v1.0.0 --output ./out

  # Pull from Docker Hub by digest, printing the result as JSON
  oci-artifact pull oci://docker.io/org/app@sha256:3b6cdcc7adcc9a84d3214ee1c029543789d90b5ae69debe9efa3f66e982875de -o ./out --format json

  # Pull a Helm chart layer from an artifact whose layers are sorted by digest
  oci-artifact pull oci://ghcr.io/org/charts/app:1.2.3 -o ./chart \\
    --layer-media-type application/vnd.cncf.helm.chart.content.v1.tar+gzip

  # Verify the cosign signature before anything is written
  oci-artifact pull oci://ghcr.io/org/app:v1 -o ./out --verify --key cosign.pub
`;
