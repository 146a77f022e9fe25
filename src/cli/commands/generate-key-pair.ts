import { usageError } from '../../errors.js';
import { handler, newCommand, withRuntime } from '../command.js';
import { promptSecret } from '../secret-input.js';

/** `generate-key-pair`: cosign.key (encrypted with COSIGN_PASSWORD or a password asked twice) and cosign.pub. */
export function generateKeyPairCommand() {
  return newCommand('generate-key-pair')
    .option('--output-key-prefix <prefix>', 'path and name of the two files, <prefix>.key and <prefix>.pub', 'cosign')
    .option('--force', 'replace existing key files')
    .addHelpText('after', EXAMPLES)
    .action(handler(async (flags, cmd) => {
      const password = await newKeyPassword();
      return withRuntime(cmd.optsWithGlobals(), async ({ reporter }) => {
        const { generateKeyPair } = await import('../../ops/generate-key-pair.js');
        const written = await generateKeyPair({ prefix: flags.outputKeyPrefix, password, force: flags.force });
        reporter.success(`private key written to ${written.privateKey}`);
        reporter.success(`public key written to ${written.publicKey}`);
        return 0;
      });
    }));
}

/** As cosign: COSIGN_PASSWORD when set (empty means no password), else asked twice on the terminal. */
async function newKeyPassword(): Promise<string> {
  if (process.env.COSIGN_PASSWORD !== undefined) return process.env.COSIGN_PASSWORD;
  const hint = 'set COSIGN_PASSWORD (to an empty value for a key without a password)';
  const first = await promptSecret('Enter password for private key: ', hint);
  const again = await promptSecret('Enter password for private key again: ', hint);
  if (first !== again) throw usageError('KEY_PASSWORD', 'the two passwords do not match', 'run it again');
  return first;
}

const EXAMPLES = `
Examples:
  # cosign.key and cosign.pub in the current directory; the password is asked twice
  oci-artifact generate-key-pair

  # in CI, with the password from the environment, then sign and verify with the pair
  COSIGN_PASSWORD="$KEY_PASSWORD" oci-artifact generate-key-pair --output-key-prefix release
  COSIGN_PASSWORD="$KEY_PASSWORD" oci-artifact sign oci://ghcr.io/org/app:v1 --key release.key
  oci-artifact verify oci://ghcr.io/org/app:v1 --key release.pub
`;
