import { createInterface } from 'node:readline/promises';
import { usageError } from '../../errors.js';
import { parseRegistryHost, storeLogin, verifyLogin } from '../../registry/login.js';
import { createRuntime, type GlobalFlags } from '../options.js';
import { promptSecret, readSecretFromStdin } from '../secret-input.js';

interface LoginFlags {
  username?: string;
}

/** `login REGISTRY [-u user] [--password-stdin]`: check the credentials at the registry, then store them. */
export async function run(args: string[], rawFlags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const flags = rawFlags as LoginFlags;
  const host = parseRegistryHost(args[0] as string);
  const username = flags.username ?? (await askUsername());
  if (username === '' || username.includes(':')) throw usageError('FLAG_INVALID', 'the user name must be non-empty and contain no colon');
  const password = globals.passwordStdin
    ? await readSecretFromStdin()
    : await promptSecret('Password: ', `pipe the password or token with --password-stdin: echo "$TOKEN" | oci-artifact login ${host.registry} -u ${username} --password-stdin`);
  if (password === '') throw usageError('SECRET_REQUIRED', 'no password was given');

  // Login takes its credentials from -u and the password only; --creds and --password-stdin are not for the runtime.
  const runtime = await createRuntime({ ...globals, creds: undefined, passwordStdin: false });
  try {
    const options = runtime.ctx.repositoryOptions;
    runtime.reporter.step(`checking the credentials at ${host.registry}`);
    await verifyLogin(host, { username, password, source: 'login' }, { ...options, signal: runtime.ctx.signal });
    const { where } = await storeLogin(host, username, password);
    runtime.reporter.success(`Login Succeeded: credentials for ${host.registry} stored in ${where}`);
    return 0;
  } finally {
    runtime.dispose();
  }
}

/** Ask for the user name with echo (it is not a secret); no terminal -> say which flag to use. */
async function askUsername(): Promise<string> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw usageError('FLAG_INVALID', 'a user name is needed and there is no terminal to ask', 'pass -u <user>');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question('Username: ')).trim();
  } finally {
    rl.close();
  }
}
