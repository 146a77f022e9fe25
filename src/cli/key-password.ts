import { readFile } from 'node:fs/promises';
import { usageError } from '../errors.js';
import { isEncryptedPrivateKeyPem } from '../signing/keys.js';
import { promptSecret } from './secret-input.js';

/** Encrypted keys (cosign's, or OpenSSL's PKCS#8) need a password: COSIGN_PASSWORD (as cosign), else a prompt on a terminal. */
export async function readKeyPassword(keyPath: string): Promise<string | undefined> {
  const pem = await readFile(keyPath, 'utf8').catch(() => {
    throw usageError('KEY_UNREADABLE', `cannot read key file '${keyPath}'`, 'give --key the path of a PEM private key');
  });
  if (!isEncryptedPrivateKeyPem(pem)) return undefined;
  if (process.env.COSIGN_PASSWORD !== undefined) return process.env.COSIGN_PASSWORD;
  return promptSecret(`Enter password for ${keyPath}: `, 'set COSIGN_PASSWORD');
}
