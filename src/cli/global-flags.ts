import { Command, Option } from '@commander-js/extra-typings';
import { DEFAULT_TIMEOUT } from './flag-values.js';
import { packageVersion } from './version.js';

/** Where registry credentials can come from besides --creds: Flux's --provider values. */
export const REGISTRY_PROVIDERS = ['generic', 'aws', 'azure', 'gcp'] as const;

/** The exit-code table at the end of `oci-artifact --help`. */
export const EXIT_CODE_HELP = `
Exit codes:
  0    success
  1    differences found (diff) or no signature satisfied the policy (verify)
  2    usage error: bad flag, reference or path
  3    registry or network error, or unusable content
  4    authentication error: credentials missing, wrong or refused
  70   internal error (a bug: please report it with --debug output)
  130  interrupted (Ctrl-C)
`;

/** The program itself with the flags every command accepts (Flux's global flags plus the registry ones). */
export function rootCommand() {
  return new Command('oci-artifact')
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
    .addHelpText('after', EXIT_CODE_HELP);
}

/** The values of the global flags, typed from their definitions above. */
export type GlobalFlags = ReturnType<ReturnType<typeof rootCommand>['opts']>;
