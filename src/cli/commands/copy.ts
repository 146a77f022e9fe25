import { reportCi } from '../ci-report.js';
import { handler, newCommand, withRuntime } from '../command.js';
import { parseInteger } from '../flag-values.js';
import { withDotenvFlag, withProviderFlag, withSideCredentialFlags } from '../flags.js';

/** `copy SRC DEST`: an artifact with its signatures and referrers, digest kept, between registries and layouts. */
export function copyCommand() {
  return withSideCredentialFlags(withDotenvFlag(withProviderFlag(newCommand('copy'))), 'the source', 'the destination')
    .description('copy an artifact with its signatures between registries and OCI layouts, keeping its digest')
    .argument('<source>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .argument('<destination>', 'oci://host/repo[:tag] or oci-layout://path[:tag] (default: the source tag)')
    .option('--include-signatures', 'also copy cosign .sig/.att/.sbom tags and OCI referrers (default)')
    .option('--no-include-signatures', 'copy the artifact only')
    .option('--concurrency <n>', 'blob transfers in flight at once', '4')
    .option('-o, --output <format>', 'print the result as json or yaml')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (sourceArg, destinationArg, flags, cmd) => {
      const { formatReference, parseReference, withVersion } = await import('../../ref/reference.js');
      const { countOf } = await import('../../output/format.js');
      const { parseOutputFormat, printDocument, printText } = await import('../../output/printer.js');
      const source = parseReference(sourceArg);
      const destination = parseReference(destinationArg);
      const format = parseOutputFormat(flags.output, 'table');
      const concurrency = parseInteger('--concurrency', flags.concurrency, 1, 64);
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { copy } = await import('../../ops/copy.js');
        // Both --include-signatures and --no-include-signatures are accepted; on unless turned off.
        const result = await copy({ source, destination, includeSignatures: flags.includeSignatures !== false, concurrency }, ctx);
        const { blobs } = result;
        const parts = [`${countOf(blobs.copied, 'blob')} copied`, `${blobs.skipped} already present`];
        if (blobs.mounted > 0) parts.push(`${blobs.mounted} mounted`);
        const signatures = result.signatures > 0 ? countOf(result.signatures, 'signature or referrer', 'signatures and referrers') : undefined;
        if (signatures !== undefined) parts.push(signatures);
        reporter.success(`copied ${result.source} to ${result.destination} (${parts.join(', ')})`);
        const url = formatReference(withVersion(destination, { digest: result.digest }));
        await reportCi('copy', { url, digest: result.digest, reference: result.destination, signatures: signatures && `${signatures} copied` }, flags.dotenv);
        if (format === 'table') printText(process.stdout, `${result.destination}\n`);
        else await printDocument(process.stdout, format, result);
        return 0;
      }, { source, destination, sides: flags });
    }));
}

const EXAMPLES = `
Examples:
  # Mirror an artifact and its signatures into another registry
  oci-artifact copy oci://ghcr.io/org/app:v1 oci://registry.internal/mirror/app

  # Carry it into an air-gapped site as an OCI layout, then push it there
  oci-artifact copy oci://ghcr.io/org/app:v1 oci-layout://./transfer
  oci-artifact copy oci-layout://./transfer:v1 oci://registry.airgap.local/app:v1

  # Only the artifact, without signatures or referrers
  oci-artifact copy oci://ghcr.io/org/app:v1 oci-layout://./store --no-include-signatures
`;
