/**
 * Public and private keys for cosign keyed signatures: PEM loading (plain PKCS#8 / SEC1 / PKCS#1, or cosign's
 * encrypted format), and sign/verify with the hash rules cosign applies.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { OciError, usageError } from '../errors.js';
import { COSIGN_KEY_PEM_TYPES, decryptCosignKey, encryptCosignKey } from './cosign-key.js';

export interface PublicKeyEntry {
  path: string;
  /** File name, used in human reasons ("signature does not match key cosign.pub"). */
  name: string;
  key: KeyObject;
  /** `SHA256:<hex>` of the SubjectPublicKeyInfo DER. */
  fingerprint: string;
}

const CURVE_HASH: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new OciError('FILE_UNREADABLE', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      kind: 'usage',
      cause: err,
    });
  }
}

/** Refuse key types and sizes cosign refuses, so a weak key fails loudly rather than "verifies". */
function checkKeyType(key: KeyObject, label: string): void {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return;
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve && key.asymmetricKeyDetails.namedCurve in CURVE_HASH) return;
  if (type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return;
  const detail = type === 'ec' ? ` curve ${key.asymmetricKeyDetails?.namedCurve}` : type === 'rsa' ? ` ${key.asymmetricKeyDetails?.modulusLength}-bit` : '';
  throw usageError('KEY_UNSUPPORTED', `${label} is a ${type}${detail} key; supported: ECDSA P-256/P-384/P-521, RSA >= 2048 bits, Ed25519`);
}

export function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

function keyFingerprint(key: KeyObject): string {
  return `SHA256:${createHash('sha256').update(spkiDer(key)).digest('hex')}`;
}

function publicKeyEntry(key: KeyObject, path: string): PublicKeyEntry {
  return { path, name: basename(path), key, fingerprint: keyFingerprint(key) };
}

export function loadPublicKeyFile(path: string): PublicKeyEntry {
  const text = readText(path, 'public key');
  const block = pemBlock(text);
  if (!block) throw usageError('KEY_INVALID', `${path} is not a key (no PEM block in it)`, 'pass a PEM public key such as cosign.pub');
  // node would derive the public half of a private key silently: say what the file is instead.
  if (block.type.endsWith('PRIVATE KEY')) {
    throw usageError('KEY_IS_PRIVATE', `${path} is a private key (${block.type}), not a public key`, 'pass the public key written beside it, such as cosign.pub');
  }
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch (err) {
    throw new OciError('KEY_INVALID', `${path} is not a PEM public key (it holds ${block.type})`, { kind: 'usage', cause: err, hint: 'pass a PEM public key such as cosign.pub' });
  }
  checkKeyType(key, path);
  return publicKeyEntry(key, path);
}

function pemBlock(text: string): { type: string; body: Buffer; encryptedHeader: boolean } | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  // OpenSSL's traditional encrypted PEM (`openssl ec -aes256`): headers before the base64 body.
  const encryptedHeader = /^Proc-Type: 4,ENCRYPTED\s*$/m.test(m[2]!);
  return { type: m[1]!, body: Buffer.from(m[2]!.replace(/^[\w-]+:.*$/gm, '').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), encryptedHeader };
}

/** Whether a private key file needs a password: cosign's encrypted PEM, encrypted PKCS#8, or OpenSSL's traditional form. */
export function isEncryptedPrivateKeyPem(text: string): boolean {
  const block = pemBlock(text);
  return block !== undefined && ((COSIGN_KEY_PEM_TYPES as readonly string[]).includes(block.type) || block.type === 'ENCRYPTED PRIVATE KEY' || block.encryptedHeader);
}

/**
 * Load a signing key: cosign's encrypted PEM (password required), an encrypted PKCS#8 PEM (password), or a
 * plain PKCS#8 / SEC1 EC / PKCS#1 RSA PEM.
 */
export function loadPrivateKeyFile(path: string, password?: string): KeyObject {
  const text = readText(path, 'private key');
  const block = pemBlock(text);
  if (!block) throw usageError('KEY_INVALID', `${path} contains no PEM block`);
  let key: KeyObject;
  if ((COSIGN_KEY_PEM_TYPES as readonly string[]).includes(block.type)) {
    if (password === undefined) {
      throw usageError('KEY_PASSWORD', `${path} is encrypted and no password was given`, 'set COSIGN_PASSWORD or enter the password when asked');
    }
    const der = decryptCosignKey(block.body, password, path);
    key = parsePrivateDer(der, path);
  } else if (isEncryptedPrivateKeyPem(text)) {
    if (password === undefined) {
      throw usageError('KEY_PASSWORD', `${path} is encrypted and no password was given`, 'set COSIGN_PASSWORD or enter the password when asked');
    }
    try {
      key = createPrivateKey({ key: text, passphrase: password });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_OSSL_BAD_DECRYPT') {
        throw new OciError('KEY_PASSWORD', `cannot decrypt ${path}: wrong password`, { kind: 'usage', cause: err, hint: 'set COSIGN_PASSWORD to the password the key was encrypted with' });
      }
      throw new OciError('KEY_INVALID', `${path} is an encrypted private key that cannot be read (${(err as Error).message})`, { kind: 'usage', cause: err });
    }
  } else {
    if (block.type.endsWith('PUBLIC KEY')) {
      throw usageError('KEY_IS_PUBLIC', `${path} is a public key, not a private key`, 'sign with the private key (e.g. cosign.key); the public key is for verify');
    }
    try {
      key = createPrivateKey(text);
    } catch (err) {
      throw new OciError('KEY_INVALID', `${path} is not a usable PEM private key (${block.type})`, { kind: 'usage', cause: err });
    }
  }
  checkKeyType(key, path);
  return key;
}

/** cosign keys are PKCS#8; older cosign EC keys were SEC1, accepted too. */
function parsePrivateDer(der: Buffer, path: string): KeyObject {
  for (const type of ['pkcs8', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch {
      // try the next encoding
    }
  }
  throw usageError('KEY_INVALID', `${path} decrypted, but the content is not a PKCS#8 or SEC1 private key`);
}

/** Sign as cosign does: ECDSA (DER) and RSA PKCS#1 v1.5 over SHA-256, Ed25519 pure. */
export function signWithKey(key: KeyObject, data: Buffer): Buffer {
  return sign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key);
}

/**
 * Verify a cosign signature. ECDSA: SHA-256 (what cosign signs with by default), and for P-384/P-521 also the
 * curve's own hash (what newer cosign/sigstore-go pick by default). RSA PKCS#1 v1.5 SHA-256. Ed25519 pure
 * (Ed25519ph, which cosign >= 2.5 may use for Ed25519 keys, needs OpenSSL 3.2 and is not supported here).
 */
export function verifyWithKey(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const tryVerify = (alg: string | null): boolean => {
    try {
      return verify(alg, data, key, signature);
    } catch {
      return false;
    }
  };
  if (key.asymmetricKeyType === 'ed25519') return tryVerify(null);
  if (tryVerify('sha256')) return true;
  const curveHash = CURVE_HASH[key.asymmetricKeyDetails?.namedCurve ?? ''];
  return curveHash !== undefined && curveHash !== 'sha256' && tryVerify(curveHash);
}

/**
 * A new key pair as `cosign generate-key-pair` makes it: ECDSA P-256, the private key PKCS#8 encrypted in cosign's
 * format (scrypt + secretbox, `ENCRYPTED SIGSTORE PRIVATE KEY`), the public key as a PEM SubjectPublicKeyInfo.
 */
export function generateCosignKeyPair(password: string): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: encryptCosignKey(privateKey.export({ type: 'pkcs8', format: 'der' }), password),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}
