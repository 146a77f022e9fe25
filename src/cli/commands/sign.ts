import { Option } from '@commander-js/extra-typings';
import { reportCi } from '../ci-report.js';
import { handler, newCommand, withRuntime } from '../command.js';
import { collect } from '../flag-values.js';
import { required } from '../flag-rules.js';
import { withDotenvFlag, withProviderFlag } from '../flags.js';

/** `sign REF --key KEY`: a cosign-compatible signature, as a legacy .sig tag or a sigstore bundle referrer. */
export function signCommand() {
  return withDotenvFlag(withProviderFlag(newCommand('sign')))
    .description('sign an artifact with a private key, cosign-compatible')
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .addOption(required(new Option('--key <path>', 'private key: PEM (EC, RSA, Ed25519) or cosign encrypted (COSIGN_PASSWORD)')))
    .addOption(new Option('--format <format>', 'legacy .sig tag or a sigstore bundle referrer').choices(['legacy', 'bundle'] as const).default('legacy'))
    .option('-a, --annotations <key=value>', 'annotation to add to the signature (repeatable)', collect)
    .option('-o, --output <format>', 'table, json or yaml')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (reference, flags, cmd) => {
      const { formatReference, parseReference, withVersion } = await import('../../ref/reference.js');
      const { parseOutputFormat, printDocument } = await import('../../output/printer.js');
      const ref = parseReference(reference);
      const format = parseOutputFormat(flags.output, 'table');
      const { readKeyPassword } = await import('../key-password.js');
      const password = await readKeyPassword(flags.key);
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { sign } = await import('../../ops/sign.js');
        const { parseAnnotationFlags } = await import('../../artifact/manifest.js');
        const annotations = parseAnnotationFlags(flags.annotations ?? []);
        const result = await sign(ref, { keyPath: flags.key, password, format: flags.format, annotations }, ctx);
        reporter.success(`signed ${result.reference} (${result.kind} at ${result.location})`);
        // The outputs name the artifact that was signed, as for every other command; the signature is in the summary.
        await reportCi('sign', {
          url: formatReference(withVersion(ref, { digest: result.digest })),
          digest: result.digest,
          reference: result.reference,
          signatures: `signed (${result.kind} at ${result.location})`,
        }, flags.dotenv);
        if (format !== 'table') await printDocument(process.stdout, format, result);
        return 0;
      });
    }));
}

const EXAMPLES = `
Examples:
  # legacy cosign signature (.sig tag), read by every Flux and cosign version
  oci-artifact sign oci://ghcr.io/org/app:v1 --key cosign.key

  # sigstore bundle stored as an OCI referrer (cosign v3 style)
  COSIGN_PASSWORD=... oci-artifact sign oci://ghcr.io/org/app:v1 --key cosign.key --format bundle
`;
