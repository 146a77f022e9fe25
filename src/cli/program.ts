import { Command, CommanderError, Option } from 'commander';
import { EXIT_CODES, OciError, isOciError } from '../errors.js';
import { collect, DEFAULT_TIMEOUT } from './flag-defaults.js';
import type { GlobalFlags } from './options.js';
import { EXAMPLES, EXIT_CODE_HELP } from './help.js';
import { githubErrorLine, underGithubActions } from './ci-report.js';
import { addShortAlias, checkFlagRules, onlyWith, required } from './flag-rules.js';
import { packageVersion } from './version.js';
import { escapeControl, safeLine } from '../output/escape.js';
import { redactSecrets } from '../secrets.js';

type Action = (args: string[], flags: Record<string, unknown>, globals: GlobalFlags) => Promise<number>;

/** Each command's module is imported only when that command runs. */
function lazy(load: () => Promise<{ run: Action }>) {
  return async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const args = command.args;
    const flags = command.opts();
    const globals = command.optsWithGlobals() as GlobalFlags;
    const { run } = await load();
    exitCode = await run(args, flags, globals);
  };
}

let exitCode = 0;

const REGISTRY_PROVIDERS = ['generic', 'aws', 'azure', 'gcp'];

/** Flux's --provider: where registry credentials come from (commands without a signature --provider). */
function addProviderFlag(cmd: Command): Command {
  return cmd.addOption(new Option('--provider <provider>', 'registry credentials from the cloud identity: ECR, ACR or GAR/GCR').choices(REGISTRY_PROVIDERS).default('generic'));
}

/** Only on the commands that produce a digest to report: elsewhere the flag would be accepted and do nothing. */
function addDotenvFlag(cmd: Command): Command {
  return cmd.option('--dotenv <file>', 'append OCI_ARTIFACT_DIGEST and OCI_ARTIFACT_URL to this file (GitLab CI dotenv report)');
}

/**
 * Credentials per side of a two-reference command, as skopeo names them: `--creds` never goes to two different
 * registries (creds-input.ts).
 */
function addSideCredentialFlags(cmd: Command, source: string, destination: string): Command {
  return cmd
    .option('--src-creds <user:password>', `credentials for ${source} only (as --creds: 'user:' or user with --password-stdin reads the password; no colon is a token)`)
    .option('--dest-creds <user:password>', `credentials for ${destination} only (as --creds)`)
    .addOption(new Option('--src-provider <provider>', `registry credentials for ${source} from a cloud identity`).choices(REGISTRY_PROVIDERS))
    .addOption(new Option('--dest-provider <provider>', `registry credentials for ${destination} from a cloud identity`).choices(REGISTRY_PROVIDERS));
}

function addIgnoreFlags(cmd: Command): Command {
  return cmd
    .option('--ignore-paths <patterns>', 'gitignore-style patterns to exclude, replacing the defaults (comma-separated, repeatable)', collect)
    .option('--add-ignore-paths <patterns>', 'gitignore-style patterns to exclude, added to the defaults (comma-separated, repeatable)', collect)
    .option('--resolve-symlinks', 'copy the targets of symbolic links instead of skipping them');
}

/**
 * Signature verification flags. `verify` names the signature format `--provider` (as Flux's `spec.verify.provider`);
 * `pull` keeps Flux's `--provider` for registry credentials, so there it is `--verify-provider`.
 */
export function addVerifyFlags(cmd: Command, providerFlag: '--provider' | '--verify-provider'): Command {
  const options = [
    new Option(`${providerFlag} <provider>`, 'signature format: cosign or notation').choices(['cosign', 'notation']).default('cosign'),
    new Option('--key <path>', 'cosign public key (PEM); repeatable').argParser(collect),
    new Option('--certificate-identity <identity>', 'keyless: exact certificate identity (SAN)'),
    new Option('--certificate-identity-regexp <regexp>', 'keyless: certificate identity regular expression (unanchored)'),
    new Option('--certificate-oidc-issuer <issuer>', 'keyless: exact OIDC issuer'),
    new Option('--certificate-oidc-issuer-regexp <regexp>', 'keyless: OIDC issuer regular expression (unanchored)'),
    new Option('--trusted-root <path>', 'sigstore trusted_root.json for offline verification'),
    new Option('--rekor-public-key <path>', 'Rekor public key (PEM) to check transparency-log entries of keyed signatures'),
    new Option('--trust-policy <path>', 'notation trustpolicy.json'),
    new Option('--trust-store <path>', 'notation trust store directory, or a certificate file/folder used for every store'),
  ];
  // On pull they configure --verify, and would be ignored without it.
  for (const option of options) cmd.addOption(providerFlag === '--verify-provider' ? onlyWith(option, 'verify') : option);
  return cmd;
}

export function buildProgram(): Command {
  const program = new Command('oci-artifact')
    .description('Store and fetch Kubernetes configuration as OCI artifacts, compatible with Flux CD.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--creds <user:password>', "registry credentials; 'user:' (or user with --password-stdin) reads the password; with no colon a bearer token (as Flux)")
    .option('--password-stdin', 'read the password for --creds or login from stdin')
    .addOption(new Option('--registry-provider <provider>', "registry credentials from a cloud identity (the same as a command's --provider; for verify, whose --provider picks the signature format)").choices(REGISTRY_PROVIDERS))
    .option('--insecure-registry', 'allow plain HTTP and unverified TLS (prints a warning)')
    .option('--ca-file <path>', 'extra CA certificates (PEM) for the registry (also SSL_CERT_FILE)')
    .option('--cert-file <path>', 'client certificate (PEM) for mutual TLS')
    .option('--key-file <path>', 'client key (PEM) for mutual TLS')
    .option('--timeout <duration>', 'give up after this long (e.g. 30s, 5m)', DEFAULT_TIMEOUT)
    .addOption(new Option('-q, --quiet', 'print only errors and machine output').conflicts(['verbose', 'debug']))
    .option('--verbose', 'print each HTTP request (secrets redacted)')
    .option('--debug', 'print HTTP headers too (secrets redacted)')
    .addHelpText('after', EXIT_CODE_HELP)
    // Each command's --help lists the flags above too (inherited by the commands created below).
    .configureHelp({ showGlobalOptions: true })
    .hook('preAction', (_program, command) => checkFlagRules(command))
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });

  const push = program.command('push')
    .description('package a directory or file and push it as a Flux artifact')
    .argument('<reference>', 'oci://host/repo:tag or oci-layout://path:tag')
    .addOption(required(new Option('-f, --path <path>', "directory or file to push, or '-' for manifests on stdin")))
    .option('--source <url>', 'source URL annotation (default: git remote or CI)')
    .option('--revision <revision>', 'revision annotation, <branch>@sha1:<commit> (default: git or CI)')
    .option('-a, --annotations <key=value>', 'extra manifest annotation (repeatable)', collect)
    .option('--reproducible', 'use the epoch as created time so the same input gives the same digest')
    .option('-o, --output <format>', 'print the result as json or yaml')
    .option('--compression-level <0-9>', 'gzip level', '6')
    .option('--sign', 'sign the pushed digest with --key (cosign format)')
    .addOption(onlyWith(new Option('--key <path>', 'private key for --sign (PEM, or a cosign encrypted key with COSIGN_PASSWORD)'), 'sign'));
  addDotenvFlag(addIgnoreFlags(addProviderFlag(push))).addHelpText('after', EXAMPLES.push).action(lazy(() => import('./commands/push.js')));

  const pull = program.command('pull')
    .description('pull an artifact and extract its content into a directory')
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .addOption(required(new Option('-o, --output <dir>', "directory to extract into (created when missing); the artifact's files overwrite same-named files, other files are kept")))
    .option('--layer-media-type <type>', 'pick the layer with this media type')
    .option('--layer-index <n>', 'pick the layer at this position')
    .option('--max-size <size>', 'largest uncompressed size to accept, e.g. 100Mi; 0 for no limit', '100Mi')
    .option('--format <format>', 'print the result as json or yaml')
    .option('--verify', 'verify signatures before extracting (the flags of verify; --verify-provider for its --provider)');
  addDotenvFlag(addVerifyFlags(addProviderFlag(pull), '--verify-provider')).addHelpText('after', EXAMPLES.pull).action(lazy(() => import('./commands/pull.js')));

  const build = program.command('build')
    .description('write the artifact content as a .tgz file without pushing it')
    .addOption(required(new Option('-f, --path <path>', "directory or file to package, or '-' for stdin (also -p, as in Flux)")))
    .option('-o, --output <file>', 'file to write', 'artifact.tgz')
    .option('--compression-level <0-9>', 'gzip level', '6');
  addShortAlias(addIgnoreFlags(build), '-p', '--path').addHelpText('after', EXAMPLES.build).action(lazy(() => import('./commands/build.js')));

  addDotenvFlag(addProviderFlag(program.command('tag')))
    .description('add tags to an artifact, keeping its manifest bytes and digest (optionally in another repository)')
    .argument('<reference>', 'oci://host/repo:tag or oci://host/repo@sha256:<digest> (or oci-layout://path:tag)')
    .option('-t, --tag <tag>', 'tag to add; repeatable or comma-separated', collect)
    .option('--to <repository>', 'tag into this repository instead, mounting or copying the content (oci://host/other[:tag])')
    .option('-o, --output <format>', 'print each resulting reference as json or yaml')
    .addHelpText('after', EXAMPLES.tag)
    .action(lazy(() => import('./commands/tag.js')));

  addProviderFlag(program.command('list'))
    .description('list the artifacts of a repository with their digest, source and revision')
    .argument('<repository>', 'oci://host/repo or oci-layout://path')
    .option('--filter-semver <range>', "only tags that are versions in this semver range, newest first (e.g. '>=1.0.0 <2.0.0')")
    .option('--filter-regex <regex>', 'only tags matching this regular expression')
    .option('--all', 'also show cosign (.sig, .att, .sbom) and referrers fallback (sha256-…) tags')
    .option('--concurrency <n>', 'manifests fetched at once', '8')
    .option('--page-size <n>', 'tags per page when reading the tag list (default 1000)')
    .option('-o, --output <format>', 'table, json or yaml')
    .addHelpText('after', EXAMPLES.list)
    .action(lazy(() => import('./commands/list.js')));

  const diff = program.command('diff')
    .description('show which files differ between an artifact and a directory, or between two artifacts')
    .argument('<reference>', 'the artifact: oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .argument('[other]', 'a second artifact to compare with, instead of --path')
    .option('-f, --path <path>', 'directory or file to compare with (packed as push would)')
    .option('-u, --unified', 'print a unified diff of text files (default on a terminal)')
    .option('--no-unified', 'print one line per changed file even on a terminal')
    .option('--semantic', 'compare YAML files as Kubernetes objects and print the changed fields (other files as without it)')
    .option('--brief', 'print only the paths of changed files (with --semantic: of files whose objects changed)')
    .option('--max-size <size>', 'largest uncompressed artifact content to read, e.g. 100Mi; 0 for no limit', '100Mi')
    .option('-o, --output <format>', 'print the file-level result as json or yaml');
  addSideCredentialFlags(addIgnoreFlags(addProviderFlag(diff)), 'the first reference', 'the second reference').addHelpText('after', EXAMPLES.diff).action(lazy(() => import('./commands/diff.js')));

  const verify = program.command('verify')
    .description('verify the cosign or notation signatures of an artifact, as Flux does')
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .option('-o, --output <format>', 'table, json or yaml');
  addDotenvFlag(addVerifyFlags(verify, '--provider')).addHelpText('after', EXAMPLES.verify).action(lazy(() => import('./commands/verify.js')));

  addDotenvFlag(addProviderFlag(program.command('sign')))
    .description('sign an artifact with a private key, cosign-compatible')
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .addOption(required(new Option('--key <path>', 'private key: PEM (EC, RSA, Ed25519) or cosign encrypted (COSIGN_PASSWORD)')))
    .addOption(new Option('--format <format>', 'legacy .sig tag or a sigstore bundle referrer').choices(['legacy', 'bundle']).default('legacy'))
    .option('-a, --annotations <key=value>', 'annotation to add to the signature (repeatable)', collect)
    .option('-o, --output <format>', 'table, json or yaml')
    .addHelpText('after', EXAMPLES.sign)
    .action(lazy(() => import('./commands/sign.js')));

  addSideCredentialFlags(addDotenvFlag(addProviderFlag(program.command('copy'))), 'the source', 'the destination')
    .description('copy an artifact with its signatures between registries and OCI layouts, keeping its digest')
    .argument('<source>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .argument('<destination>', 'oci://host/repo[:tag] or oci-layout://path[:tag] (default: the source tag)')
    .option('--include-signatures', 'also copy cosign .sig/.att/.sbom tags and OCI referrers (default)')
    .option('--no-include-signatures', 'copy the artifact only')
    .option('--concurrency <n>', 'blob transfers in flight at once', '4')
    .option('-o, --output <format>', 'print the result as json or yaml')
    .addHelpText('after', EXAMPLES.copy)
    .action(lazy(() => import('./commands/copy.js')));

  addProviderFlag(program.command('inspect'))
    .description('show the manifest, config, annotations, layers, files and signatures of an artifact')
    .argument('<reference>', 'oci://host/repo:tag[@digest] or oci-layout://path:tag')
    .option('--files', 'list the files of the content layer')
    .addOption(onlyWith(new Option('--max-size <size>', 'largest uncompressed size to read for --files; 0 for no limit').default('100Mi'), 'files'))
    .option('-o, --output <format>', 'table, json (includes the raw manifest) or yaml')
    .addHelpText('after', EXAMPLES.inspect)
    .action(lazy(() => import('./commands/inspect.js')));

  program.command('generate-key-pair')
    .description('write a cosign-compatible key pair: an encrypted private key (COSIGN_PASSWORD) and its public key')
    .option('--output-key-prefix <prefix>', 'path and name of the two files, <prefix>.key and <prefix>.pub', 'cosign')
    .option('--force', 'replace existing key files')
    .addHelpText('after', EXAMPLES['generate-key-pair'])
    .action(lazy(() => import('./commands/generate-key-pair.js')));

  program.command('login')
    .description('check credentials at a registry and store them as Docker does (credential helper or config.json)')
    .argument('<registry>', 'registry host, e.g. ghcr.io or localhost:5000')
    .option('-u, --username <user>', 'user name (asked for on a terminal when omitted)')
    .addHelpText('after', '\nExamples:\n  echo "$GITHUB_TOKEN" | oci-artifact login ghcr.io -u USER --password-stdin\n  oci-artifact login registry.example.com -u admin   # asks for the password without echo\n')
    .action(lazy(() => import('./commands/login.js')));

  program.command('logout')
    .description('remove the credentials stored for a registry')
    .argument('<registry>', 'registry host, e.g. ghcr.io')
    .action(lazy(() => import('./commands/logout.js')));

  program.command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', '\nExamples:\n  source <(oci-artifact completion bash)\n  oci-artifact completion fish | source\n')
    .action(async (shell: string) => {
      const { completionScript } = await import('./completion.js');
      process.stdout.write(completionScript(program, shell));
    });

  return program;
}

/** Run the CLI; returns the exit status. The one place where errors become messages and exit codes. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    exitCode = 0;
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(await unwrapAbort(err), argv.includes('--debug'));
  }
}

/**
 * An abort surfaces as a plain AbortError from streams; what matters is why the run was aborted. Only a command
 * that ran can abort, so options.js is already loaded then; importing it lazily keeps it out of `--help`.
 */
async function unwrapAbort(err: unknown): Promise<unknown> {
  if (err instanceof Error && err.name === 'AbortError') {
    if (isOciError(err.cause)) return err.cause;
    const { lastAbortReason } = await import('./options.js');
    const reason = lastAbortReason();
    if (reason !== undefined) return reason;
  }
  return err;
}

/** Hints are appended after '; ', so they read as the second half of one sentence. */
function tidyHint(hint: string): string {
  const trimmed = hint.trim().replace(/\.$/, '');
  return /^[A-Z][a-z]/.test(trimmed) ? trimmed[0]!.toLowerCase() + trimmed.slice(1) : trimmed;
}

/** One line per error: a GitHub Actions annotation in a workflow (the log shows it as the error), else `✗ …`. */
function printError(message: string): void {
  // The message may carry a registry's or an artifact's text: one line, its controls escaped, no secret in it.
  const line = redactSecrets(message);
  process.stderr.write(underGithubActions() ? githubErrorLine(escapeControl(line)) : `✗ ${safeLine(line)}\n`);
}

/** --debug: the structured facts behind the error and its causes (every entry of a registry's error answer). */
function printDetails(err: unknown): void {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (!(e instanceof OciError) || e.details === undefined) continue;
    // Strings are redacted before JSON escapes them, so a secret in an escaped form cannot slip through.
    const json = JSON.stringify(e.details, (_key, value: unknown) => (typeof value === 'string' ? redactSecrets(value) : value));
    process.stderr.write(`${safeLine(redactSecrets(`details of ${e.code}: ${json}`))}\n`);
  }
}

function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    // commander's suggestion comes on a second line, "(Did you mean --path?)": keep the error one line.
    printError(err.message.replace(/^error: /, '').replace(/\n\(Did you mean (.+)\?\)$/, '; did you mean $1?'));
    return EXIT_CODES.usage;
  }
  const line = isOciError(err) ? `${err.message}${err.hint ? `; ${tidyHint(err.hint)}` : ''}` : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
  printError(line);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${redactSecrets(err.stack)}\n`); // the stack repeats the message
  if (debug) printDetails(err);
  if (err instanceof OciError) return EXIT_CODES[err.kind];
  return EXIT_CODES.internal;
}
