import { usageError } from '../../errors.js';
import { appendStepSummary, stepSummaryFile } from '../ci-report.js';
import { handler, newCommand, parseArtifactArguments, withRuntime } from '../command.js';
import { collect, parseSize } from '../flag-values.js';
import { ignoreOptions, withIgnoreFlags, withProviderFlag, withSideCredentialFlags } from '../flags.js';

/**
 * `diff REF (--path DIR | OTHER)`: which files differ. Exit status as diff(1): 0 the same, 1 different. Under GitHub
 * Actions the review view (`-o markdown`) is also appended to the step summary, whatever is printed.
 */
export function diffCommand() {
  const command = newCommand('diff')
    .argument('<reference>', 'the artifact: oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .argument('[other]', 'a second artifact to compare with, instead of --path')
    .option('-f, --path <SRC[:DEST]>', 'directory or file to compare with, packed as push would (repeatable, as push -f)', collect)
    .option('-u, --unified', 'print a unified diff of text files (default on a terminal)')
    .option('--no-unified', 'print one line per changed file even on a terminal')
    .option('--semantic', 'compare YAML files as Kubernetes objects and print the changed fields (other files as without it)')
    .option('--brief', 'print only the paths of changed files (with --semantic: of files whose objects changed)')
    .option('--max-size <size>', 'largest uncompressed artifact content to read, e.g. 100Mi; 0 for no limit', '100Mi')
    .option('--missing-as-changed', 'a tag that does not exist is an artifact with no files: every file added, exit 1 (not 3)')
    .option('-o, --output <format>', 'print the file-level result as json or yaml, or a review as markdown (for a pull-request comment)');
  return withSideCredentialFlags(withIgnoreFlags(withProviderFlag(command)), 'the first reference', 'the second reference')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (reference, otherArg, flags, cmd) => {
      const { ref, other, format } = await parseArtifactArguments(reference, flags.output, { other: otherArg, formats: ['markdown'] });
      const { printDocument, printText } = await import('../../output/printer.js');
      const { renderBrief, renderFull, summarise } = await import('../views/diff.js');
      const { renderDiffMarkdown } = await import('../../output/diff-markdown.js');
      const against = other !== undefined ? { ref: other } : flags.path !== undefined ? { path: (await import('../../ops/support/source-flags.js')).sourcesOf(flags.path, process.cwd()) } : undefined;
      if (against === undefined || (other !== undefined && flags.path !== undefined)) {
        throw usageError('DIFF_TARGET', against === undefined ? 'nothing to compare the artifact with' : 'give either a second artifact or --path, not both',
          'pass --path <dir> to compare with local files, or a second oci:// reference');
      }
      if (format !== 'table' && flags.brief) throw usageError('FLAG_CONFLICT', '--brief and --output cannot be combined');
      if (flags.brief && flags.unified === true) throw usageError('FLAG_CONFLICT', '--brief and --unified cannot be combined', 'pick one: paths only, or patches');
      const maxSize = parseSize('--max-size', flags.maxSize);
      // A patch by default only for a person at a terminal; scripts get the stable one-line-per-file listing.
      const unified = flags.brief ? false : (flags.unified ?? (format === 'table' && process.stdout.isTTY === true));
      // The review (markdown) shows every file's patch and the objects that changed, whatever the printed view shows.
      const summaryFile = stepSummaryFile();
      const review = format === 'markdown' || summaryFile !== undefined;
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { diff } = await import('../../ops/diff.js');
        const result = await diff({
          ref,
          against,
          ...ignoreOptions(flags),
          unified: unified || review,
          semantic: flags.semantic,
          objectSummary: review,
          maxSize,
          missingAsChanged: flags.missingAsChanged,
        }, ctx);
        reporter.finish();
        const markdown = review && result.patches !== undefined ? renderDiffMarkdown({ ...result, patches: result.patches }) : undefined;
        // The other views show what their flags asked for, not what the review added.
        const shown = { ...result, patches: unified ? result.patches : undefined, semantic: flags.semantic ? result.semantic : undefined };
        if (format === 'markdown') {
          printText(process.stdout, markdown ?? '');
        } else if (format !== 'table') {
          // The file-level result; patches only when asked for with --unified.
          await printDocument(process.stdout, format, shown);
        } else {
          printText(process.stdout, flags.brief ? renderBrief(shown) : renderFull(shown));
          summarise(shown, (line) => (result.differs ? reporter.notice(line) : reporter.success(line)));
        }
        if (summaryFile !== undefined && markdown !== undefined) await appendStepSummary(summaryFile, markdown, (line) => reporter.notice(line));
        return result.differs ? 1 : 0;
      }, { source: ref, destination: other, sides: flags });
    }));
}

const EXAMPLES = `
Examples:
  # What would a push of ./deploy change? (exit 0 same, 1 different, 2+ error)
  oci-artifact diff oci://ghcr.io/org/app-manifests:latest --path ./deploy

  # The same as a unified diff, and as Kubernetes objects
  oci-artifact diff oci://ghcr.io/org/app-manifests:latest --path ./deploy --unified
  oci-artifact diff oci://ghcr.io/org/app-manifests:latest --path ./deploy --semantic

  # In a pull request that adds an app: its tag does not exist yet, so everything counts as added (exit 1)
  oci-artifact diff oci://ghcr.io/org/new-app:prod --path ./apps/new-app --missing-as-changed

  # A review for a pull-request comment: counts, changed Kubernetes objects, one collapsible diff per file
  # (under GitHub Actions, diff also appends this to the step summary, whatever -o says)
  oci-artifact diff oci://ghcr.io/org/app-manifests:prod --path ./deploy -o markdown > diff.md

  # Compare two releases; only the changed paths, for scripts
  oci-artifact diff oci://ghcr.io/org/app:v1.0.0 oci://ghcr.io/org/app:v1.1.0 --brief
`;
