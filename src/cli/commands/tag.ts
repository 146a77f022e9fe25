import { reportCi } from '../ci-report.js';
import { handler, newCommand, parseArtifactArguments, withRuntime } from '../command.js';
import { Option } from '@commander-js/extra-typings';
import { onlyWith } from '../flag-rules.js';
import { collect, splitList } from '../flag-values.js';
import { withDotenvFlag, withProviderFlag } from '../flags.js';

/** `tag REF -t TAG`: new tags for an artifact, its manifest bytes kept (optionally in another repository). */
export function tagCommand() {
  return withDotenvFlag(withProviderFlag(newCommand('tag')))
    .argument('<reference>', 'oci://host/repo:tag or oci://host/repo@sha256:<digest> (or oci-layout://path:tag)')
    .option('-t, --tag <tag>', 'tag to add; repeatable or comma-separated', collect)
    .option('--to <repository>', 'tag into this repository instead, mounting or copying the content (oci://host/other[:tag])')
    .option('--latest', 'the reference is a repository: tag the first tag the filters select, as list shows them (the highest version in --filter-semver)')
    .addOption(onlyWith(new Option('--filter-semver <range>', "with --latest: only tags that are versions in this semver range (e.g. '^1')"), 'latest'))
    .addOption(onlyWith(new Option('--filter-regex <regexp>', 'with --latest: only tags matching this regular expression (unanchored)'), 'latest'))
    .option('-o, --output <format>', 'print each resulting reference as json or yaml')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (reference, flags, cmd) => {
      const { ref: source, other: to, format } = await parseArtifactArguments(reference, flags.output, { other: flags.to });
      const { formatReference, withVersion } = await import('../../ref/reference.js');
      const { shortDigest } = await import('../../ref/digest.js');
      const { countOf } = await import('../../output/format.js');
      const { printResult } = await import('../../output/printer.js');
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { tag } = await import('../../ops/tag.js');
        const latest = flags.latest === true ? { semver: flags.filterSemver, regex: flags.filterRegex } : undefined;
        const result = await tag({ source, to, tags: splitList(flags.tag) ?? [], latest }, ctx);
        if (latest !== undefined) reporter.success(`picked ${result.source} (${result.digest})`);
        if (result.blobs !== undefined) {
          const { mounted, copied, skipped } = result.blobs;
          reporter.success(`content: ${countOf(mounted, 'blob')} mounted, ${copied} copied, ${skipped} already present`);
        }
        for (const tagged of result.tagged) reporter.success(`tagged ${formatReference(withVersion(to ?? source, { tag: tagged.tag }))} (${shortDigest(tagged.digest)})`);
        await reportCi('tag', {
          url: formatReference(withVersion(to ?? source, { digest: result.digest })),
          digest: result.digest,
          reference: result.tagged.map((t) => t.url).join(', '),
        }, flags.dotenv);
        // Every reference written, with its digest: a promotion script reads them here.
        await printResult(process.stdout, format, result.tagged, () => result.tagged.map((t) => `${t.url}\n`).join(''));
        return 0;
      }, { source, destination: to });
    }));
}

const EXAMPLES = `
Examples:
  # Promote a version to latest and stable (the manifest bytes and digest are kept)
  oci-artifact tag oci://ghcr.io/org/app-manifests:v1.0.0 --tag latest --tag stable

  # Tag by digest, several tags at once
  oci-artifact tag oci://ghcr.io/org/app@sha256:3b6cdcc7adcc9a84d3214ee1c029543789d90b5ae69debe9efa3f66e982875de --tag prod,v1

  # Promote the highest 1.x release to stable
  oci-artifact tag oci://ghcr.io/org/app --latest --filter-semver '^1' --tag stable

  # Tag into another repository of the same registry (blobs are mounted, not uploaded again)
  oci-artifact tag oci://ghcr.io/org/staging/app:v1 --to oci://ghcr.io/org/prod/app --tag v1 -o json
`;
