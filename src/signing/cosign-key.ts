/**
 * cosign's encrypted private key files (`cosign generate-key-pair`): a PEM block `ENCRYPTED SIGSTORE PRIVATE KEY`
 * (or the older `ENCRYPTED COSIGN PRIVATE KEY`) whose body is go-tuf's `encrypted` JSON:
 * `{"kdf":{"name":"scrypt","params":{"N","r","p"},"salt"},"cipher":{"name":"nacl/secretbox","nonce"},"ciphertext"}`,
 * the plaintext being a PKCS#8 DER private key.
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { OciError, usageError } from '../errors.js';
import { secretboxOpen, secretboxSeal } from './secretbox.js';

export const COSIGN_KEY_PEM_TYPES = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'] as const;

interface EncryptedKeyJson {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

/** go-tuf's "standard" scrypt parameters, which cosign uses for new keys. */
const DEFAULT_SCRYPT = { N: 32768, r: 8, p: 1 };

function deriveKey(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  const { N, r, p } = params;
  // Refuse absurd work factors from a hostile file before allocating (N up to 2^20, r up to 32).
  if (!Number.isInteger(N) || N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) {
    throw usageError('KEY_INVALID', 'encrypted cosign key has unsupported scrypt parameters');
  }
  return scryptSync(Buffer.from(password, 'utf8'), salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
}

/** Decrypt the base64 body of an encrypted cosign key to PKCS#8 DER. Throws KEY_PASSWORD on a wrong password. */
export function decryptCosignKey(body: Buffer, password: string, label = 'key'): Buffer {
  let data: EncryptedKeyJson;
  try {
    data = JSON.parse(body.toString('utf8')) as EncryptedKeyJson;
  } catch (err) {
    throw new OciError('KEY_INVALID', `${label} is not a cosign encrypted key (its body is not JSON)`, { kind: 'usage', cause: err });
  }
  if (data?.kdf?.name !== 'scrypt' || data?.cipher?.name !== 'nacl/secretbox' || typeof data.ciphertext !== 'string') {
    throw usageError('KEY_INVALID', `${label} uses an unsupported encryption (expected scrypt + nacl/secretbox)`);
  }
  const salt = Buffer.from(data.kdf.salt, 'base64');
  const nonce = Buffer.from(data.cipher.nonce, 'base64');
  if (nonce.length !== 24) throw usageError('KEY_INVALID', `${label} has a nonce of ${nonce.length} bytes, expected 24`);
  const plain = secretboxOpen(Buffer.from(data.ciphertext, 'base64'), nonce, deriveKey(password, salt, data.kdf.params));
  if (!plain) {
    throw usageError('KEY_PASSWORD', `cannot decrypt ${label}: wrong password`, 'set COSIGN_PASSWORD to the password the key was created with');
  }
  return plain;
}

/** Encrypt PKCS#8 DER as cosign does; returns the PEM text (type ENCRYPTED SIGSTORE PRIVATE KEY). */
export function encryptCosignKey(pkcs8Der: Buffer, password: string): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const json: EncryptedKeyJson = {
    kdf: { name: 'scrypt', params: DEFAULT_SCRYPT, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: secretboxSeal(pkcs8Der, nonce, deriveKey(password, salt, DEFAULT_SCRYPT)).toString('base64'),
  };
  const b64 = Buffer.from(JSON.stringify(json)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${COSIGN_KEY_PEM_TYPES[0]}-----\n${lines.join('\n')}\n-----END ${COSIGN_KEY_PEM_TYPES[0]}-----\n`;
}
