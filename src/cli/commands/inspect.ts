import { Option } from '@commander-js/extra-typings';
import { handler, newCommand, parseArtifactArguments, withRuntime } from '../command.js';
import { parseSize } from '../flag-values.js';
import { onlyWith } from '../flag-rules.js';
import { withProviderFlag } from '../flags.js';

/** `inspect REF`: manifest, config, annotations, layers, files and attached signatures of an artifact. */
export function inspectCommand() {
  return withProviderFlag(newCommand('inspect'))
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .option('--files', 'list the files of the content layer')
    .addOption(onlyWith(new Option('--max-size <size>', 'largest uncompressed size to read for --files; 0 for no limit').default('100Mi'), 'files'))
    .option('-o, --output <format>', 'table, json (includes the raw manifest) or yaml')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (reference, flags, cmd) => {
      const { ref, format } = await parseArtifactArguments(reference, flags.output);
      const { printResult } = await import('../../output/printer.js');
      const { renderInspect } = await import('../views/inspect.js');
      const maxSize = parseSize('--max-size', flags.maxSize);
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { inspect } = await import('../../ops/inspect.js');
        const result = await inspect({ ref, files: flags.files ?? false, maxSize }, ctx);
        reporter.finish();
        await printResult(process.stdout, format, result, () => renderInspect(result));
        return 0;
      });
    }));
}

const EXAMPLES = `
Examples:
  # Manifest, config, annotations, layers and attached signatures
  oci-artifact inspect oci://ghcr.io/org/app:v1

  # Also list the files of the content layer
  oci-artifact inspect oci-layout://./store:v1 --files

  # The raw manifest as JSON
  oci-artifact inspect oci://ghcr.io/org/app:v1 -o json | jq .manifest
`;
