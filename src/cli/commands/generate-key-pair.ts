import { usageError } from '../../errors.js';
import { generateKeyPair } from '../../ops/generate-key-pair.js';
import { createRuntime, type GlobalFlags } from '../options.js';
import { promptSecret } from '../secret-input.js';

interface GenerateKeyPairFlags {
  outputKeyPrefix: string;
  force?: boolean;
}

/** `generate-key-pair`: cosign.key (encrypted with COSIGN_PASSWORD or a password asked twice) and cosign.pub. */
export async function run(_args: string[], rawFlags: Record<string, unknown>, globals: GlobalFlags): Promise<number> {
  const flags = rawFlags as unknown as GenerateKeyPairFlags;
  const password = await newKeyPassword();
  const runtime = await createRuntime(globals);
  try {
    const written = await generateKeyPair({ prefix: flags.outputKeyPrefix, password, force: flags.force });
    runtime.reporter.success(`private key written to ${written.privateKey}`);
    runtime.reporter.success(`public key written to ${written.publicKey}`);
    return 0;
  } finally {
    runtime.dispose();
  }
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
