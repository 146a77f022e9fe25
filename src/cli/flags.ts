import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import type { VerifyPolicy } from '../signing/index.js';
import { collect, splitList } from './flag-values.js';
import { onlyWith } from './flag-rules.js';
import { REGISTRY_PROVIDERS } from './global-flags.js';

/**
 * Flag groups that several commands share, each added in one call so that every command spells, describes and
 * types them alike. Each returns the command with the group's options added to its typed options.
 */

/** Flux's --provider: where registry credentials come from (commands without a signature --provider). */
export function withProviderFlag<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd.addOption(new Option('--provider <provider>', 'registry credentials from the cloud identity: ECR, ACR or GAR/GCR').choices(REGISTRY_PROVIDERS).default('generic'));
}

/** Only on the commands that produce a digest to report: elsewhere the flag would be accepted and do nothing. */
export function withDotenvFlag<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd.option('--dotenv <file>', 'append OCI_ARTIFACT_DIGEST and OCI_ARTIFACT_URL to this file (GitLab CI dotenv report)');
}

/**
 * Credentials per side of a two-reference command, as skopeo names them: `--creds` never goes to two different
 * registries (creds-input.ts).
 */
export function withSideCredentialFlags<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>, source: string, destination: string) {
  return cmd
    .option('--src-creds <user:password>', `credentials for ${source} only (as --creds: 'user:' or user with --password-stdin reads the password; no colon is a token)`)
    .option('--dest-creds <user:password>', `credentials for ${destination} only (as --creds)`)
    .addOption(new Option('--src-provider <provider>', `registry credentials for ${source} from a cloud identity`).choices(REGISTRY_PROVIDERS))
    .addOption(new Option('--dest-provider <provider>', `registry credentials for ${destination} from a cloud identity`).choices(REGISTRY_PROVIDERS));
}

/** What to leave out of a packed directory (push, build, diff --path). */
export function withIgnoreFlags<A extends unknown[], O extends OptionValues, G extends OptionValues>(cmd: Command<A, O, G>) {
  return cmd
    .option('--ignore-paths <patterns>', 'gitignore-style patterns to exclude, replacing the defaults (comma-separated, repeatable)', collect)
    .option('--add-ignore-paths <patterns>', 'gitignore-style patterns to exclude, added to the defaults (comma-separated, repeatable)', collect)
    .option('--resolve-symlinks', 'copy the targets of symbolic links instead of skipping them');
}

/** The ignore flags' values as the packing ops take them (push, build, diff). */
export function ignoreOptions(flags: { ignorePaths?: string[]; addIgnorePaths?: string[]; resolveSymlinks?: boolean }) {
  return { ignorePaths: splitList(flags.ignorePaths), addIgnorePaths: splitList(flags.addIgnorePaths), resolveSymlinks: flags.resolveSymlinks };
}

const SIGNATURE_PROVIDERS = ['cosign', 'notation'] as const;

/**
 * Signature verification flags. `verify` names the signature format `--provider` (as Flux's `spec.verify.provider`);
 * `pull` keeps Flux's `--provider` for registry credentials, so there it is `--verify-provider`, and every flag of
 * the group acts only with pull's `--verify` (given alone it is refused, not ignored).
 */
export function withVerifyFlags<A extends unknown[], O extends OptionValues, G extends OptionValues, P extends '--provider' | '--verify-provider'>(cmd: Command<A, O, G>, providerFlag: P) {
  const mark = <T extends Option<string, unknown, unknown, unknown, boolean, unknown>>(option: T): T => (providerFlag === '--verify-provider' ? onlyWith(option, 'verify') : option);
  return cmd
    .addOption(mark(new Option(`${providerFlag} <provider>` as `${P} <provider>`, 'signature format: cosign or notation').choices(SIGNATURE_PROVIDERS).default('cosign')))
    .addOption(mark(new Option('--key <path>', 'cosign public key (PEM); repeatable').argParser(collect)))
    .addOption(mark(new Option('--certificate-identity <identity>', 'keyless: exact certificate identity (SAN)')))
    .addOption(mark(new Option('--certificate-identity-regexp <regexp>', 'keyless: certificate identity regular expression (unanchored)')))
    .addOption(mark(new Option('--certificate-oidc-issuer <issuer>', 'keyless: exact OIDC issuer')))
    .addOption(mark(new Option('--certificate-oidc-issuer-regexp <regexp>', 'keyless: OIDC issuer regular expression (unanchored)')))
    .addOption(mark(new Option('--trusted-root <path>', 'sigstore trusted_root.json for offline verification')))
    .addOption(mark(new Option('--rekor-public-key <path>', 'Rekor public key (PEM) to check transparency-log entries of keyed signatures')))
    .addOption(mark(new Option('--trust-policy <path>', 'notation trustpolicy.json')))
    .addOption(mark(new Option('--trust-store <path>', 'notation trust store directory, or a certificate file/folder used for every store')));
}

/** The values of the verification flags (whatever the provider flag is called). */
type VerifyFlagValues = Omit<ReturnType<ReturnType<typeof withVerifyFlags<[], {}, {}, '--provider'>>['opts']>, 'provider'>;

/** The verification flags as a policy for the signing module; `provider` is the value of --provider or --verify-provider. */
export function verifyPolicy(provider: VerifyPolicy['provider'], flags: VerifyFlagValues): VerifyPolicy {
  return {
    provider,
    keys: flags.key,
    certificateIdentity: flags.certificateIdentity,
    certificateIdentityRegexp: flags.certificateIdentityRegexp,
    certificateOidcIssuer: flags.certificateOidcIssuer,
    certificateOidcIssuerRegexp: flags.certificateOidcIssuerRegexp,
    trustedRootPath: flags.trustedRoot,
    rekorPublicKeyPath: flags.rekorPublicKey,
    trustPolicyPath: flags.trustPolicy,
    trustStorePath: flags.trustStore,
  };
}
