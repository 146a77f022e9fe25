import { setFlagsFromString } from 'node:v8';
import { EXIT_CODES, OciError } from '../errors.js';
import type { RepositoryOptions } from '../ops/support/open-repository.js';
import type { OpContext } from '../ops/support/context.js';
import { detectTerminal } from '../output/terminal.js';
import { Reporter } from '../output/reporter.js';
import { isProviderName } from '../registry/providers/types.js';
import { createRegistryCache } from '../registry/registry-cache.js';
import { resolveCredentials, type CredentialTargets } from './creds-input.js';
import { parseDuration } from './duration.js';
import { DEFAULT_TIMEOUT } from './flag-values.js';
import type { GlobalFlags } from './global-flags.js';

/**
 * The flags a run is set up from: the global ones, and a command's own `--provider` (Flux's name for the registry
 * provider; on verify and pull it names the signature format, which is not a registry provider and is ignored here).
 */
export type RuntimeFlags = GlobalFlags & { provider?: string };

let abortReason: OciError | undefined;

/** Why the current run was aborted (timeout or signal), for errors that arrive as a bare AbortError. */
export function lastAbortReason(): OciError | undefined {
  return abortReason;
}

/** Everything a command needs to run one operation: signal with timeout and Ctrl-C, reporter, repository options. */
export interface CommandRuntime {
  ctx: OpContext;
  reporter: Reporter;
  dispose(): void;
}

/**
 * `targets`: the registry references the command reaches, when they may be two (copy, diff, tag --to), so that
 * credentials given without a host go to one registry only (creds-input.ts).
 */
/**
 * V8 sweeps, scavenges and compacts on helper threads by default. This CLI's heap stays small (~10-20 MiB) while
 * hundreds of MiB of buffers pass through it, so collections are frequent and short, and the helper threads compete
 * for the cores with the work spread over them (zlib on libuv's thread pool, a registry next door). On 2 cores a
 * 256 MiB pull used ~7% less CPU without them (user time 2.06 -> 1.92 s, medians of 4) at the same peak RSS.
 * Concurrent marking stays: without it too the pull was faster still (CPU 1.78 s), but collections finished later
 * and peak RSS rose ~20 MiB (`diff --unified` of two 256 MiB artifacts 130 -> 149 MiB, against a 150 MiB budget).
 * Set when a command runs, so --version and --help do not load node:v8.
 */
function collectOnTheMainThread(): void {
  for (const flag of ['--no-concurrent-sweeping', '--no-concurrent-array-buffer-sweeping',
    '--no-parallel-scavenge', '--no-parallel-compaction', '--no-parallel-pointer-update']) {
    setFlagsFromString(flag);
  }
}

export async function createRuntime(flags: RuntimeFlags, targets?: CredentialTargets): Promise<CommandRuntime> {
  collectOnTheMainThread();
  const timeoutMs = parseDuration(flags.timeout ?? DEFAULT_TIMEOUT);
  // pull and verify use --provider for signatures (cosign|notation); only registry provider names count here.
  const { creds, provider, sides } = await resolveCredentials({
    creds: flags.creds,
    provider: [flags.registryProvider, flags.provider].find(isProviderName),
    passwordStdin: flags.passwordStdin,
  }, targets);
  const terminal = detectTerminal(process.stderr);
  const reporter = new Reporter({ stream: process.stderr, terminal, quiet: flags.quiet, verbose: flags.verbose, debug: flags.debug });
  await reporter.init();

  const controller = new AbortController();
  controller.signal.addEventListener('abort', () => {
    abortReason = controller.signal.reason as OciError;
  });
  const onSignal = (name: string) => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.interrupted);
    controller.abort(new OciError('INTERRUPTED', `interrupted by ${name}`, { kind: 'interrupted' }));
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  // Counted from the start of the process (performance.now()), so loading the modules is inside the bound too.
  const timer = setTimeout(() => {
    controller.abort(new OciError('TIMEOUT', `timed out after ${flags.timeout ?? DEFAULT_TIMEOUT}`, { hint: 'raise --timeout or check the registry' }));
  }, Math.max(0, timeoutMs - performance.now()));
  timer.unref();

  if (flags.insecureRegistry) reporter.notice('--insecure-registry: TLS certificates are not verified and plain HTTP is allowed');
  const repositoryOptions: RepositoryOptions = {
    creds,
    provider,
    insecure: flags.insecureRegistry ?? false,
    caFile: flags.caFile ?? process.env.SSL_CERT_FILE,
    certFile: flags.certFile,
    keyFile: flags.keyFile,
    signal: controller.signal,
    onRequest: (log) => reporter.request(log),
    cache: createRegistryCache(),
  };
  const ctx: OpContext = {
    signal: controller.signal,
    repositoryOptions,
    sides,
    // Only where bars are drawn: producing some events costs work (packing first walks the tree for its totals).
    onProgress: reporter.showsProgress ? (event) => reporter.progress(event) : undefined,
    onStep: (message) => reporter.step(message),
    onNotice: (message) => reporter.notice(message),
  };
  return {
    ctx,
    reporter,
    dispose() {
      clearTimeout(timer);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      reporter.finish();
    },
  };
}
