import { Option } from '@commander-js/extra-typings';
import { handler, newCommand, withRuntime } from '../command.js';
import { addShortAlias, required } from '../flag-rules.js';
import { collect, parseInteger } from '../flag-values.js';
import { ignoreOptions, withIgnoreFlags } from '../flags.js';

/** `build -f PATH -o FILE`: the artifact's content as a .tgz, as `flux build artifact` writes it. */
export function buildCommand() {
  const command = newCommand('build')
    .addOption(required(new Option('-f, --path <SRC[:DEST]>', "directory or file to package, placed under DEST (repeatable), or '-' for stdin (also -p, as in Flux)").argParser(collect)))
    .option('-o, --output <file>', 'file to write', 'artifact.tgz')
    .option('--compression-level <0-9>', 'gzip level', '6');
  return addShortAlias(withIgnoreFlags(command), '-p', '--path')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (flags, cmd) => withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
      const { formatBytes } = await import('../../bytes.js');
      const { countOf } = await import('../../output/format.js');
      const { build } = await import('../../ops/build.js');
      const result = await build({
        // -p (Flux's alias) sets one value directly; -f collects a list.
        path: (await import('../../ops/support/source-flags.js')).sourcesOf([flags.path].flat(), process.cwd()),
        output: flags.output,
        ...ignoreOptions(flags),
        compressionLevel: parseInteger('--compression-level', flags.compressionLevel, 0, 9),
      }, ctx);
      reporter.success(`wrote ${flags.output} (${countOf(result.files, 'file')}, ${formatBytes(result.size)}, ${result.digest})`);
      return 0;
    })));
}

const EXAMPLES = `
Examples:
  # Build the artifact tarball locally, as flux build artifact does
  oci-artifact build --path ./deploy --output artifact.tgz
`;
