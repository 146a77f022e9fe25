import { Option } from '@commander-js/extra-typings';
import { usageError } from '../../errors.js';
import { handler, newCommand, parseArtifactArguments, withRuntime } from '../command.js';
import { parseInteger } from '../flag-values.js';
import { withProviderFlag } from '../flags.js';

/** `list REPO`: one row per tag with its digest, source and revision, as `flux list artifacts`. */
export function listCommand() {
  return withProviderFlag(newCommand('list'))
    .argument('<repository>', 'oci://host/repo or oci-layout://path')
    .option('--filter-semver <range>', "only tags that are versions in this semver range, newest first (e.g. '>=1.0.0 <2.0.0')")
    .option('--filter-regex <regex>', 'only tags matching this regular expression')
    .option('--all', 'also show cosign (.sig, .att, .sbom) and referrers fallback (sha256-…) tags')
    .option('--concurrency <n>', 'manifests fetched at once', '8')
    .option('--page-size <n>', 'tags per page when reading the tag list (default 1000)')
    .option('--limit <n>', 'show at most this many artifacts, the first in the chosen order')
    .addOption(new Option('--sort <order>', "semver: versions newest first; created: by the artifact's creation time, newest first (reads every selected tag's manifest)").choices(['semver', 'created'] as const))
    .option('--latest', 'print only the first artifact (with the sort and filters) as one pinned reference, for promotion')
    .option('-o, --output <format>', 'table, json or yaml')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (repository, flags, cmd) => {
      const { ref, format } = await parseArtifactArguments(repository, flags.output);
      const { shortDigest } = await import('../../ref/digest.js');
      const { printResult, renderTable } = await import('../../output/printer.js');
      const { usableWidth } = await import('../../output/terminal.js');
      const concurrency = parseInteger('--concurrency', flags.concurrency, 1, 64);
      const pageSize = parseInteger('--page-size', flags.pageSize, 1, 10_000);
      const limit = flags.latest ? 1 : parseInteger('--limit', flags.limit, 1, 1_000_000);
      if (flags.latest && flags.limit !== undefined) throw usageError('FLAG_CONFLICT', '--latest and --limit cannot be combined', '--latest is --limit 1 printed as one reference');
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { list } = await import('../../ops/list.js');
        const result = await list({ ref, semver: flags.filterSemver, regex: flags.filterRegex, all: flags.all, concurrency, pageSize, limit, sort: flags.sort }, ctx);
        reporter.finish();
        if (flags.latest) {
          const [latest] = result.artifacts;
          if (latest === undefined) {
            throw usageError('NO_TAG_MATCHES', `${result.repository} has no tag to pick (of ${result.totalTags})`, 'list the tags with `list` and the same filters');
          }
          await printResult(process.stdout, format, latest, () => `${latest.url}@${latest.digest}\n`);
          return 0;
        }
        // The table is the command's output (stdout), as with `flux list artifacts`; the full digest is in -o json.
        await printResult(process.stdout, format, result.artifacts, () => {
          const rows = result.artifacts.map((a) => [a.url, shortDigest(a.digest), a.source ?? '', a.revision ?? '', a.created ?? '']);
          // On a terminal the table fits its width: the revision (often a long branch name) gives way, never wraps.
          return renderTable(['ARTIFACT', 'DIGEST', 'SOURCE', 'REVISION', 'CREATED'], rows, { width: usableWidth(process.stdout), shrink: 3 });
        });
        return 0;
      });
    }));
}

const EXAMPLES = `
Examples:
  # All artifacts of a repository, newest tag first
  oci-artifact list oci://ghcr.io/org/app-manifests

  # Only 1.x releases (a leading v is accepted), as JSON
  oci-artifact list oci://ghcr.io/org/app-manifests --filter-semver '>=1.0.0 <2.0.0' -o json

  # The five most recently created artifacts, as JSON
  oci-artifact list oci://ghcr.io/org/app-manifests --sort created --limit 5 -o json

  # The newest 1.x release as one pinned reference, to promote it
  oci-artifact copy "$(oci-artifact list oci://ghcr.io/org/app-manifests --filter-semver '^1' --latest)" oci://ghcr.io/org/prod-manifests:stable

  # Tags of main-branch builds, signatures included
  oci-artifact list oci://ghcr.io/org/app-manifests --filter-regex '^main-' --all
`;
