import { usageError } from '../errors.js';
import type { ArtifactReference } from '../ref/reference.js';
import { assertProviderServes, type CloudProvider } from '../registry/providers/hosts.js';
import { isProviderName, type ProviderName } from '../registry/providers/types.js';
import { promptSecret, readSecretFromStdin } from './secret-input.js';

/**
 * The credential flags of a run, turned into what each registry receives. `user:password` passes as is; `user:`
 * (no password) takes the password from --password-stdin or a no-echo prompt; a value without a colon is a user
 * name with --password-stdin, else a registry token as Flux reads it.
 *
 * A credential given without a host (`--creds`, OCI_ARTIFACT_USERNAME/PASSWORD) goes to one registry only: a
 * command that reaches two different registry hosts (copy, diff of two artifacts, tag --to) takes per-side flags
 * instead (`--src-creds`/`--dest-creds`, `--src-provider`/`--dest-provider`, as skopeo names them), so the source
 * never receives the destination's password. When both sides are on the same host, `--creds` serves both.
 */

/** What one side of a two-reference command receives; layered over the run's repository options. */
export interface SideCredentials {
  creds?: string;
  provider?: ProviderName;
}

/** The per-side flags of copy and diff. */
export interface SideFlags {
  srcCreds?: string;
  destCreds?: string;
  srcProvider?: string;
  destProvider?: string;
}

/** The registry references a command reaches: one, or a source and a destination. */
export interface CredentialTargets {
  source: ArtifactReference;
  destination?: ArtifactReference;
  /** The command's per-side flags (copy, diff); absent for commands without them (tag --to). */
  sides?: SideFlags;
}

export interface ResolvedCredentials {
  /** For the run's repository options: the one registry's credential (none when sides are set). */
  creds?: string;
  provider?: ProviderName;
  /** Set for two-reference commands: what the source and the destination each receive, and nothing else. */
  sides?: { source: SideCredentials; destination: SideCredentials };
}

interface CredsFlag {
  flag: string;
  value: string | undefined;
}

/** One `--creds`-style value; `fromStdin` is the password read once for the one flag that waits for it. */
async function completeCreds({ flag, value }: CredsFlag, fromStdin: string | undefined): Promise<string | undefined> {
  if (value === undefined || value === '') return value;
  const colon = value.indexOf(':');
  const user = colon < 0 ? value : value.slice(0, colon);
  if (!waitsForPassword(value, fromStdin !== undefined)) return value;
  if (user === '') throw usageError('FLAG_INVALID', `${flag} needs a user name before the colon`);
  // Per-side flags name their side, so two prompts are told apart.
  const whose = flag === '--creds' ? user : `${user} (${flag})`;
  const password = fromStdin ?? await promptSecret(`Password for ${whose}: `, `pass ${flag} ${user}:<password>, or pipe it with --password-stdin`);
  if (password === '') throw usageError('SECRET_REQUIRED', `no password was given for ${whose}`);
  return `${user}:${password}`;
}

/** `user:` always waits for a password; a bare word does only with --password-stdin (else it is a token). */
function waitsForPassword(value: string, passwordStdin: boolean): boolean {
  const colon = value.indexOf(':');
  return colon === value.length - 1 || (colon < 0 && passwordStdin);
}

/** Resolve several credential flags; --password-stdin fills exactly one of them. */
async function completeAll(flags: CredsFlag[], passwordStdin: boolean): Promise<(string | undefined)[]> {
  const given = flags.filter((f) => f.value !== undefined && f.value !== '');
  if (passwordStdin) {
    if (given.length === 0) throw usageError('FLAG_INVALID', '--password-stdin needs --creds <user> (or login -u <user>)');
    const waiting = given.filter((f) => waitsForPassword(f.value!, true));
    if (waiting.length === 0) throw usageError('FLAG_INVALID', `--password-stdin cannot be combined with a password in ${given.map((f) => f.flag).join(' and ')}`);
    if (waiting.length > 1) {
      throw usageError('FLAG_INVALID', `--password-stdin gives one password, but ${waiting.map((f) => f.flag).join(' and ')} each wait for one`,
        'give the others as user:password');
    }
    const password = await readSecretFromStdin();
    return Promise.all(flags.map((f) => completeCreds(f, f === waiting[0] ? password : undefined)));
  }
  const out: (string | undefined)[] = [];
  for (const f of flags) out.push(await completeCreds(f, undefined)); // one prompt at a time
  return out;
}

/** The `--creds` value the registry client receives (commands with one registry). */
export async function resolveCredsFlag(creds: string | undefined, passwordStdin: boolean | undefined): Promise<string | undefined> {
  const [value] = await completeAll([{ flag: '--creds', value: creds }], passwordStdin ?? false);
  return value;
}

function registryOf(ref: ArtifactReference | undefined): string | undefined {
  return ref?.kind === 'registry' ? ref.registry : undefined;
}

function sideProvider(flag: string, value: string | undefined): CloudProvider | undefined {
  if (value === undefined) return undefined;
  if (!isProviderName(value)) throw usageError('FLAG_INVALID', `${flag} must be one of generic, aws, azure, gcp, got '${value}'`);
  return value === 'generic' ? undefined : value;
}

/**
 * Decide what each registry receives. `creds`/`provider` are the run's bare flags (`--creds`, `--provider` or
 * `--registry-provider`); `env` is checked for OCI_ARTIFACT_USERNAME, which is as hostless as `--creds`.
 */
export async function resolveCredentials(
  bare: { creds?: string; provider?: ProviderName; passwordStdin?: boolean },
  targets: CredentialTargets | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedCredentials> {
  const sides = targets?.sides ?? {};
  const perSide = [sides.srcCreds, sides.destCreds, sides.srcProvider, sides.destProvider].some((v) => v !== undefined);
  const from = registryOf(targets?.source);
  const to = registryOf(targets?.destination);
  const twoHosts = from !== undefined && to !== undefined && from !== to;
  const bareProvider = bare.provider === 'generic' ? undefined : bare.provider;

  if (!perSide) {
    if (twoHosts && bare.creds !== undefined && bare.creds !== '') {
      throw usageError('CREDS_AMBIGUOUS', `--creds would go to both ${from} and ${to}; each registry gets only its own credentials`,
        targets?.sides !== undefined ? 'pass --src-creds for the source and --dest-creds for the destination' : `store each registry's credentials with 'oci-artifact login', or use copy with --src-creds/--dest-creds`);
    }
    if (twoHosts && bareProvider === undefined && (bare.creds === undefined || bare.creds === '') && env.OCI_ARTIFACT_USERNAME) {
      throw usageError('CREDS_AMBIGUOUS', `OCI_ARTIFACT_USERNAME/OCI_ARTIFACT_PASSWORD would go to both ${from} and ${to}; each registry gets only its own credentials`,
        targets?.sides !== undefined ? 'unset them and pass --src-creds/--dest-creds' : `unset them and store each registry's credentials with 'oci-artifact login'`);
    }
    if (twoHosts && bareProvider !== undefined && targets?.sides !== undefined) {
      // A bare --provider goes to both sides; say which flag gives it to one side only.
      const hint = `pass --src-provider ${bareProvider} or --dest-provider ${bareProvider} for the side on that cloud, and --src-creds/--dest-creds for the other`;
      assertProviderServes(bareProvider, from, '--provider', hint);
      assertProviderServes(bareProvider, to, '--provider', hint);
    }
    const creds = await resolveCredsFlag(bare.creds, bare.passwordStdin);
    if (targets?.destination === undefined || targets.sides === undefined) return { creds, provider: bareProvider };
    const side: SideCredentials = { creds, provider: bareProvider };
    return { sides: { source: side, destination: side } };
  }

  // Per-side flags: the bare ones would be ambiguous next to them.
  if (targets?.destination === undefined) {
    throw usageError('FLAG_CONFLICT', '--src-* and --dest-* credentials are for two references', 'with --path, pass --creds');
  }
  if (bare.creds !== undefined && bare.creds !== '') {
    throw usageError('FLAG_CONFLICT', '--creds cannot be combined with --src-creds, --dest-creds, --src-provider or --dest-provider', 'give each side its own flag');
  }
  if (bareProvider !== undefined) {
    throw usageError('FLAG_CONFLICT', `--provider ${bareProvider} cannot be combined with --src-*/--dest-* credentials`, 'use --src-provider or --dest-provider');
  }
  const checkSide = (side: 'src' | 'dest', ref: ArtifactReference, creds: string | undefined, provider: string | undefined): void => {
    if (creds !== undefined && provider !== undefined) throw usageError('FLAG_CONFLICT', `--${side}-creds and --${side}-provider cannot be combined`);
    if ((creds !== undefined || provider !== undefined) && ref.kind !== 'registry') {
      throw usageError('FLAG_CONFLICT', `--${side}-${creds !== undefined ? 'creds' : 'provider'} is for a registry, and the ${side === 'src' ? 'source' : 'destination'} is an OCI layout`);
    }
  };
  checkSide('src', targets.source, sides.srcCreds, sides.srcProvider);
  checkSide('dest', targets.destination, sides.destCreds, sides.destProvider);
  const bareSide = (from !== undefined && sides.srcCreds === undefined && sides.srcProvider === undefined)
    || (to !== undefined && sides.destCreds === undefined && sides.destProvider === undefined);
  if (twoHosts && bareSide && env.OCI_ARTIFACT_USERNAME) {
    throw usageError('CREDS_AMBIGUOUS', `OCI_ARTIFACT_USERNAME/OCI_ARTIFACT_PASSWORD would go to a side without its own credentials (${from} or ${to})`,
      'unset them, or give both sides --src-creds/--dest-creds');
  }
  const srcProvider = sideProvider('--src-provider', sides.srcProvider);
  const destProvider = sideProvider('--dest-provider', sides.destProvider);
  if (srcProvider !== undefined) assertProviderServes(srcProvider, from!, '--src-provider');
  if (destProvider !== undefined) assertProviderServes(destProvider, to!, '--dest-provider');
  const [srcCreds, destCreds] = await completeAll([
    { flag: '--src-creds', value: sides.srcCreds },
    { flag: '--dest-creds', value: sides.destCreds },
  ], bare.passwordStdin ?? false);
  return {
    sides: {
      source: { creds: srcCreds, provider: srcProvider },
      destination: { creds: destCreds, provider: destProvider },
    },
  };
}
