import { readFile } from 'node:fs/promises';
import { usageError } from '../../errors.js';
import { promptSecret } from '../secret-input.js';

/** cosign's encrypted keys need a password: COSIGN_PASSWORD (as cosign), else a prompt on a terminal. */
export async function readKeyPassword(keyPath: string): Promise<string | undefined> {
  const pem = await readFile(keyPath, 'utf8').catch(() => {
    throw usageError('KEY_UNREADABLE', `cannot read key file '${keyPath}'`, 'give --key the path of a PEM private key');
  });
  if (!pem.includes('ENCRYPTED SIGSTORE PRIVATE KEY') && !pem.includes('ENCRYPTED COSIGN PRIVATE KEY')) return undefined;
  if (process.env.COSIGN_PASSWORD !== undefined) return process.env.COSIGN_PASSWORD;
  return promptSecret(`Enter password for ${keyPath}: `, 'set COSIGN_PASSWORD');
}
