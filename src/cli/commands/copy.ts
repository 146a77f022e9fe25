import { Option } from '@commander-js/extra-typings';
import { usageError } from '../../errors.js';
import { reportCi } from '../ci-report.js';
import { handler, newCommand, parseArtifactArguments, withRuntime } from '../command.js';
import { parseInteger } from '../flag-values.js';
import { verifyPolicy, withDotenvFlag, withProviderFlag, withSideCredentialFlags, withVerifyFlags } from '../flags.js';

/**
 * `copy SRC DEST`: an artifact with its signatures and referrers, digest kept, between registries and layouts;
 * with a selection (`--filter-semver`, `--filter-regex`, `--limit`, `--all-tags`), many releases of a repository at
 * once (ops/copy-releases.ts); with `--latest`, the first tag the selection gives.
 */
export function copyCommand() {
  const command = withSideCredentialFlags(withDotenvFlag(withProviderFlag(newCommand('copy'))), 'the source', 'the destination')
    .argument('<source>', 'oci://host/repo[:tag][@digest], oci-layout://path[:tag] (a directory, or a .tar/.tar.gz bundle)')
    .argument('<destination>', 'oci://host/repo[:tag] or oci-layout://path[:tag] (default: the source tag)')
    .option('--include-signatures', 'also copy cosign .sig/.att/.sbom tags and OCI referrers (default)')
    .option('--no-include-signatures', 'copy the artifact only')
    .option('--concurrency <n>', 'blob transfers in flight at once', '4')
    .option('--filter-semver <range>', "copy the tags that are versions in this semver range, newest first (e.g. '>=1.0.0 <2.0.0')")
    .option('--filter-regex <regexp>', 'copy the tags matching this regular expression (unanchored)')
    .option('--limit <n>', 'copy only the first N selected tags (the newest N in a semver range)')
    .option('--all-tags', 'copy every tag of the source repository')
    .option('--latest', 'copy only the first tag the filters select (the highest version in --filter-semver)')
    .option('--no-clobber', 'never move a destination tag that points to another digest; it is listed as kept')
    .option('--dry-run', 'write nothing; list what would be copied and exit 1 when anything would')
    .option('--verify', 'copy only releases whose signature passes the verify flags (--verify-provider, --key, ...); the others are listed and the exit is 1');
  return withVerifyFlags(command, '--verify-provider')
    .addOption(new Option('-o, --output <format>', 'print the result as json or yaml'))
    .addHelpText('after', EXAMPLES)
    .action(handler(async (sourceArg, destinationArg, flags, cmd) => {
      const parsed = await parseArtifactArguments(sourceArg, flags.output, { other: destinationArg });
      let { ref: source, other: destination } = parsed;
      const { format } = parsed;
      const { formatReference, withVersion } = await import('../../ref/reference.js');
      const { countOf } = await import('../../output/format.js');
      const { printResult, renderTable } = await import('../../output/printer.js');
      const concurrency = parseInteger('--concurrency', flags.concurrency, 1, 64);
      const limit = parseInteger('--limit', flags.limit, 1, 1_000_000);
      const filters = { semver: flags.filterSemver, regex: flags.filterRegex };
      const selecting = flags.allTags === true || filters.semver !== undefined || filters.regex !== undefined || limit !== undefined;
      const releaseFlags = flags.dryRun === true || flags.verify === true || flags.clobber === false;
      if (flags.latest === true && (flags.allTags === true || limit !== undefined || releaseFlags)) {
        throw usageError('FLAG_CONFLICT', '--latest copies one tag; it does not combine with --all-tags, --limit, --dry-run, --verify or --no-clobber',
          'to check or verify the latest release, use --limit 1 instead of --latest');
      }
      if (flags.latest !== true && (selecting || releaseFlags)) {
        // One tagged release with --dry-run, --verify or --no-clobber: the selection of that tag alone.
        if (!selecting && source.tag !== undefined && source.digest === undefined) {
          if (destination.tag !== undefined && destination.tag !== source.tag) {
            throw usageError('FLAG_CONFLICT', 'with --dry-run, --verify or --no-clobber the destination keeps the source tag', `drop :${destination.tag} from the destination`);
          }
          filters.regex = `^${source.tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
          source = withVersion(source, {});
          destination = withVersion(destination, {});
        }
        const policy = flags.verify === true ? verifyPolicy(flags.verifyProvider, flags) : undefined;
        return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
          const { copyReleases } = await import('../../ops/copy-releases.js');
          const result = await copyReleases({
            source, destination, ...filters, limit, allTags: flags.allTags, noClobber: flags.clobber === false,
            verify: policy, includeSignatures: flags.includeSignatures !== false, dryRun: flags.dryRun, concurrency,
          }, ctx);
          const count = (action: string) => result.releases.filter((r) => r.action === action).length;
          const failed = result.releases.filter((r) => r.action === 'failed');
          for (const release of failed) reporter.error(`${release.tag} (${release.digest}) not copied: ${release.reason ?? 'verification failed'}`);
          for (const release of result.releases.filter((r) => r.action === 'kept')) {
            reporter.notice(`${release.tag} kept at ${release.previous} (--no-clobber; the source has ${release.digest})`);
          }
          const { blobs } = result;
          const moved = `${countOf(blobs.copied, 'blob')} copied, ${blobs.skipped} already present${blobs.mounted > 0 ? `, ${blobs.mounted} mounted` : ''}`;
          const summary = result.dryRun
            ? `${countOf(count('would-copy'), 'release')} to copy, ${count('in-sync')} in sync${count('kept') > 0 ? `, ${count('kept')} kept` : ''} (dry run: nothing written)`
            : `${countOf(count('copied'), 'release')} copied, ${count('in-sync')} in sync${count('kept') > 0 ? `, ${count('kept')} kept` : ''} (${moved})`;
          if (failed.length === 0) reporter.success(summary);
          else reporter.notice(`${summary}; ${countOf(failed.length, 'release')} failed verification`);
          await printResult(process.stdout, format, result, () => renderTable(['TAG', 'ACTION', 'DIGEST', 'DESTINATION'], result.releases.map((r) => [r.tag, r.action, r.digest, r.destination])));
          return failed.length > 0 || (result.dryRun && count('would-copy') > 0) ? 1 : 0;
        }, { source, destination, sides: flags });
      }
      return withRuntime(cmd.optsWithGlobals(), async ({ ctx, reporter }) => {
        const { copy } = await import('../../ops/copy.js');
        // Both --include-signatures and --no-include-signatures are accepted; on unless turned off.
        const result = await copy({
          source, destination, includeSignatures: flags.includeSignatures !== false, concurrency,
          latest: flags.latest === true ? filters : undefined,
        }, ctx);
        const { blobs } = result;
        const parts = [`${countOf(blobs.copied, 'blob')} copied`, `${blobs.skipped} already present`];
        if (blobs.mounted > 0) parts.push(`${blobs.mounted} mounted`);
        const signatures = result.signatures > 0 ? countOf(result.signatures, 'signature or referrer', 'signatures and referrers') : undefined;
        if (signatures !== undefined) parts.push(signatures);
        reporter.success(`copied ${result.source} to ${result.destination} (${parts.join(', ')})`);
        const url = formatReference(withVersion(destination, { digest: result.digest }));
        await reportCi('copy', { url, digest: result.digest, reference: result.destination, signatures: signatures && `${signatures} copied` }, flags.dotenv);
        await printResult(process.stdout, format, result, () => `${result.destination}\n`);
        return 0;
      }, { source, destination, sides: flags });
    }));
}

const EXAMPLES = `
Examples:
  # Mirror an artifact and its signatures into another registry
  oci-artifact copy oci://ghcr.io/org/app:v1 oci://registry.internal/mirror/app

  # Carry it into an air-gapped site as one file, then push it there
  oci-artifact copy oci://ghcr.io/org/app:v1 oci-layout://./release.tar
  oci-artifact copy oci-layout://./release.tar:v1 oci://registry.airgap.local/app:v1

  # Promote the newest three 1.x releases that carry our signature, never moving a tag production has
  oci-artifact copy oci://staging.example/app oci://prod.example/app --filter-semver '^1' --limit 3 --verify --key cosign.pub --no-clobber

  # Drift check for a scheduled job: exit 1 when production lacks a release staging has
  oci-artifact copy oci://staging.example/app oci://prod.example/app --filter-semver '>=1.0.0' --dry-run

  # Only the artifact, without signatures or referrers
  oci-artifact copy oci://ghcr.io/org/app:v1 oci-layout://./store --no-include-signatures
`;
