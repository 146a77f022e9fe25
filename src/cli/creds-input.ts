import { usageError } from '../errors.js';
import { promptSecret, readSecretFromStdin } from './secret-input.js';

/**
 * The `--creds` value the registry client receives. `user:password` passes as is; `user:` (no password) takes the
 * password from --password-stdin or a no-echo prompt; a value without a colon is a username with
 * --password-stdin, else a registry token as Flux reads it.
 */
export async function resolveCredsFlag(creds: string | undefined, passwordStdin: boolean | undefined): Promise<string | undefined> {
  if (creds === undefined || creds === '') {
    if (passwordStdin) throw usageError('FLAG_INVALID', '--password-stdin needs --creds <user> (or login -u <user>)');
    return creds;
  }
  const colon = creds.indexOf(':');
  const user = colon < 0 ? creds : creds.slice(0, colon);
  const missingPassword = colon === creds.length - 1 || (colon < 0 && passwordStdin);
  if (!missingPassword) {
    if (passwordStdin) throw usageError('FLAG_INVALID', '--password-stdin cannot be combined with a password in --creds');
    return creds;
  }
  if (user === '') throw usageError('FLAG_INVALID', '--creds needs a user name before the colon');
  const password = passwordStdin
    ? await readSecretFromStdin()
    : await promptSecret(`Password for ${user}: `, `pass --creds ${user}:<password>, or pipe it with --password-stdin`);
  if (password === '') throw usageError('SECRET_REQUIRED', `no password was given for ${user}`);
  return `${user}:${password}`;
}
