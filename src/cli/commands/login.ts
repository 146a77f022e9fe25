import { usageError } from '../../errors.js';
import { handler, newCommand, withRuntime } from '../command.js';
import { promptSecret, readSecretFromStdin } from '../secret-input.js';

/** `login REGISTRY [-u user] [--password-stdin]`: check the credentials at the registry, then store them. */
export function loginCommand() {
  return newCommand('login')
    .argument('<registry>', 'registry host, e.g. ghcr.io or localhost:5000')
    .option('-u, --username <user>', 'user name (asked for on a terminal when omitted)')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (registry, flags, cmd) => {
      const globals = cmd.optsWithGlobals();
      const { login, parseRegistryHost } = await import('../../ops/login.js');
      const host = parseRegistryHost(registry);
      const username = flags.username ?? (await askUsername());
      if (username === '' || username.includes(':')) throw usageError('FLAG_INVALID', 'the user name must be non-empty and contain no colon');
      const password = globals.passwordStdin
        ? await readSecretFromStdin()
        : await promptSecret('Password: ', `pipe the password or token with --password-stdin: echo "$TOKEN" | oci-artifact login ${host.registry} -u ${username} --password-stdin`);
      if (password === '') throw usageError('SECRET_REQUIRED', 'no password was given');
      // Login takes its credentials from -u and the password only; --creds and --password-stdin are not for the runtime.
      return withRuntime({ ...globals, creds: undefined, passwordStdin: undefined }, async ({ ctx, reporter }) => {
        const { where } = await login({ registry: host, username, password }, ctx);
        reporter.success(`Login Succeeded: credentials for ${host.registry} stored in ${where}`);
        return 0;
      });
    }));
}

/** Ask for the user name with echo (it is not a secret); no terminal -> say which flag to use. */
async function askUsername(): Promise<string> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw usageError('FLAG_INVALID', 'a user name is needed and there is no terminal to ask', 'pass -u <user>');
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question('Username: ')).trim();
  } finally {
    rl.close();
  }
}

const EXAMPLES = '\nExamples:\n  echo "$GITHUB_TOKEN" | oci-artifact login ghcr.io -u USER --password-stdin\n  oci-artifact login registry.example.com -u admin   # asks for the password without echo\n';
