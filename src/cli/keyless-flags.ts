import { readFile } from 'node:fs/promises';
import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import { usageError } from '../errors.js';
import type { KeylessOptions } from '../signing/index.js';
import { onlyWith } from './flag-rules.js';
import { readSecretFromStdin } from './secret-input.js';

/**
 * The flags of keyless signing (`sign --keyless`, `push --sign` without `--key`): where the OIDC identity token
 * comes from and which Sigstore instance signs. `partner` is the flag they act with; given without it they are
 * refused, not ignored.
 */
export function withKeylessFlags<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>, partner: 'keyless' | 'sign') {
  const only = <T extends Option<string, unknown, unknown, unknown, boolean, unknown>>(option: T): T => onlyWith(option, partner);
  return cmd
    .addOption(only(new Option('--identity-token <file>', "keyless: OIDC identity token (audience sigstore) in a file, or '-' for stdin (default: GitHub Actions' or GitLab's SIGSTORE_ID_TOKEN)")))
    .addOption(only(new Option('--fulcio-url <url>', 'keyless: Fulcio that issues the certificate, https (default: the public-good instance)')))
    .addOption(only(new Option('--rekor-url <url>', 'keyless: Rekor that logs the signature, https (default: the public-good instance)')))
    .addOption(only(new Option('--oidc-issuer <url>', 'keyless: refuse an identity token issued by anyone else (without it, any issuer the Fulcio trusts; verify pins it with --certificate-oidc-issuer)')))
    .addOption(only(new Option('--trusted-root <path>', 'keyless: trusted_root.json of that Fulcio and Rekor, checked before writing (default: public-good, through TUF)')));
}

export interface KeylessFlagValues {
  identityToken?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  oidcIssuer?: string;
  trustedRoot?: string;
}

/** The names of the keyless flags given, to refuse them beside --key. */
export function keylessFlagsGiven(flags: KeylessFlagValues): string[] {
  const names: Array<[keyof KeylessFlagValues, string]> = [
    ['identityToken', '--identity-token'], ['fulcioUrl', '--fulcio-url'], ['rekorUrl', '--rekor-url'], ['oidcIssuer', '--oidc-issuer'], ['trustedRoot', '--trusted-root'],
  ];
  return names.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag);
}

/** KeylessOptions from the flags; `--identity-token` is read here (a file, or all of stdin for '-'). */
export async function keylessOptions(flags: KeylessFlagValues): Promise<KeylessOptions> {
  const options: KeylessOptions = {};
  if (flags.identityToken !== undefined) options.identityToken = await readIdentityToken(flags.identityToken);
  if (flags.fulcioUrl !== undefined || flags.rekorUrl !== undefined) {
    // Checked here too, so a plain-HTTP URL is refused before the registry is asked anything.
    const { sigstoreServiceUrl } = await import('../signing/index.js');
    if (flags.fulcioUrl !== undefined) options.fulcioUrl = sigstoreServiceUrl('--fulcio-url', flags.fulcioUrl);
    if (flags.rekorUrl !== undefined) options.rekorUrl = sigstoreServiceUrl('--rekor-url', flags.rekorUrl);
  }
  if (flags.oidcIssuer !== undefined) options.oidcIssuer = flags.oidcIssuer;
  if (flags.trustedRoot !== undefined) options.trustedRootPath = flags.trustedRoot;
  return options;
}

export interface SignerChoice {
  keyPath?: string;
  password?: string;
  keyless?: KeylessOptions;
}

/**
 * `--key` or `--keyless` (with its flags), checked and read: who signs, for `sign` and `attest`. The key's password
 * and the identity token are read here, before the registry is asked anything. `flags`: the command's with the
 * global ones (cmd.optsWithGlobals()), for --password-stdin.
 */
export async function signerFromFlags(
  command: 'sign' | 'attest',
  flags: KeylessFlagValues & { key?: string; keyless?: boolean; passwordStdin?: boolean },
): Promise<SignerChoice> {
  if (flags.key === undefined && !flags.keyless) throw usageError('FLAG_MISSING', `${command} needs --key <private key> or --keyless`, 'pass --key cosign.key, or --keyless in a CI job with an OIDC identity');
  if (flags.key !== undefined && flags.keyless) throw usageError('FLAG_CONFLICT', '--key and --keyless exclude each other', `${command} with one of them`);
  if (flags.identityToken === '-' && flags.passwordStdin === true) {
    throw usageError('FLAG_CONFLICT', 'stdin cannot carry both the password (--password-stdin) and the identity token (--identity-token -)');
  }
  if (flags.key !== undefined) {
    const { readKeyPassword } = await import('./key-password.js');
    return { keyPath: flags.key, password: await readKeyPassword(flags.key) };
  }
  return { keyless: await keylessOptions(flags) };
}

async function readIdentityToken(source: string): Promise<string> {
  if (source === '-') return readSecretFromStdin();
  return readFile(source, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw usageError('FILE_UNREADABLE', `cannot read the identity token file '${source}': ${err.code ?? err.message}`, "give --identity-token a file holding the token, or '-' for stdin");
  });
}
