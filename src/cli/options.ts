import { EXIT_CODES, OciError, usageError } from '../errors.js';
import type { RepositoryOptions } from '../ops/support/open-repository.js';
import type { OpContext } from '../ops/support/context.js';
import { detectTerminal } from '../output/terminal.js';
import { Reporter } from '../output/reporter.js';
import { isProviderName } from '../registry/providers/types.js';
import { resolveCredentials, type CredentialTargets } from './creds-input.js';
import { parseDuration } from './duration.js';
import { DEFAULT_TIMEOUT } from './flag-defaults.js';

export { collect, DEFAULT_TIMEOUT } from './flag-defaults.js';

/** Flags every command accepts (Flux's global flags plus the registry ones). */
export interface GlobalFlags {
  creds?: string;
  insecureRegistry?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  timeout?: string;
  verbose?: boolean;
  debug?: boolean;
  quiet?: boolean;
  /** Read the --creds (or login) password from stdin. */
  passwordStdin?: boolean;
  /** --registry-provider (every command), or a command's own --provider when it names a registry provider. */
  registryProvider?: string;
  provider?: string;
}

/** Split Flux-style list flags: repeatable, and each value may be a comma-separated list. */
export function splitList(values: string[] | string | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = Array.isArray(values) ? values : [values];
  return list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

export function parseInteger(name: string, value: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw usageError('FLAG_INVALID', `${name} must be a whole number ${range}, got '${value}'`);
  }
  return Number(value);
}

/** Parse a size such as `100Mi`, `1G`, `512k` or plain bytes. */
export function parseSize(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)\s*(k|ki|m|mi|g|gi|kb|mb|gb)?b?$/i.exec(value.trim());
  if (!match) throw usageError('FLAG_INVALID', `${name} must be a size such as 100Mi, 1Gi or 0 for none, got '${value}'`);
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1;
  return Number(match[1]) * factor;
}

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
export async function createRuntime(flags: GlobalFlags, targets?: CredentialTargets): Promise<CommandRuntime> {
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
