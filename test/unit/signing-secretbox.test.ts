import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { decryptCosignKey, encryptCosignKey } from '../../src/signing/cosign-key.js';
import { poly1305, secretboxOpen, secretboxSeal } from '../../src/signing/secretbox.js';

const FIXTURE = new URL('../../fixtures/signing/cosign-encrypted-keys/', import.meta.url);

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
}

describe('secretbox primitives', () => {
  it('Poly1305 matches the RFC 8439 section 2.5.2 vector', () => {
    const key = Buffer.from('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b', 'hex');
    expect(poly1305(key, Buffer.from('Cryptographic Forum Research Group')).toString('hex')).toBe('a8061dc1305136c6c22b8baf0c0127a9');
  });

  it('seal/open round trip; a flipped bit or another key is rejected', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const msg = randomBytes(200);
    const sealed = secretboxSeal(msg, nonce, key);
    expect(sealed.length).toBe(216);
    expect(secretboxOpen(sealed, nonce, key)).toEqual(msg);
    const tampered = Buffer.from(sealed);
    tampered[100] ^= 1;
    expect(secretboxOpen(tampered, nonce, key)).toBeUndefined();
    expect(secretboxOpen(sealed, nonce, randomBytes(32))).toBeUndefined();
  });
});

describe('cosign encrypted keys', () => {
  it('decrypts the sigstore/cosign test key (password "hello"): the Poly1305 tag authenticates and the plaintext is PKCS#8', () => {
    const pem = readFileSync(new URL('sigstore-labeled.key', FIXTURE), 'utf8');
    const der = decryptCosignKey(pemBody(pem), 'hello');
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    expect(['ec', 'rsa', 'ed25519']).toContain(key.asymmetricKeyType);
  });

  it('refuses a wrong password with a usage error that does not echo it', () => {
    const pem = readFileSync(new URL('sigstore-labeled.key', FIXTURE), 'utf8');
    try {
      decryptCosignKey(pemBody(pem), 'not-the-password');
      expect.unreachable();
    } catch (err) {
      expect((err as { code: string }).code).toBe('KEY_PASSWORD');
      expect(String((err as Error).message)).not.toContain('not-the-password');
    }
  });

  it('encrypt then decrypt returns the same key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const pem = encryptCosignKey(der, 's3cret');
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const back = createPrivateKey({ key: decryptCosignKey(pemBody(pem), 's3cret'), format: 'der', type: 'pkcs8' });
    expect(createPublicKey(back).export({ type: 'spki', format: 'der' })).toEqual(publicKey.export({ type: 'spki', format: 'der' }));
  });
});
