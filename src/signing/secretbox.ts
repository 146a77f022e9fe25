/**
 * NaCl secretbox (XSalsa20-Poly1305), the cipher of cosign's encrypted private keys (go-tuf `encrypted`).
 * Node's crypto has neither XSalsa20 nor a standalone Poly1305, and no installed package offers them, so
 * this is a small, direct implementation of the published algorithms (Bernstein: Salsa20, XSalsa20, Poly1305).
 * Sealed format as Go's `secretbox.Seal`: 16-byte tag, then the ciphertext.
 */
import { timingSafeEqual } from 'node:crypto';

const SECRETBOX_KEY_BYTES = 32;
const SECRETBOX_NONCE_BYTES = 24;
const SECRETBOX_TAG_BYTES = 16;

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]; // "expand 32-byte k"

function rotl(v: number, n: number): number {
  return ((v << n) | (v >>> (32 - n))) >>> 0;
}

/** 20 Salsa20 rounds over `x` in place. */
function salsaRounds(x: Uint32Array): void {
  for (let i = 0; i < 20; i += 2) {
    x[4] ^= rotl((x[0] + x[12]) >>> 0, 7); x[8] ^= rotl((x[4] + x[0]) >>> 0, 9);
    x[12] ^= rotl((x[8] + x[4]) >>> 0, 13); x[0] ^= rotl((x[12] + x[8]) >>> 0, 18);
    x[9] ^= rotl((x[5] + x[1]) >>> 0, 7); x[13] ^= rotl((x[9] + x[5]) >>> 0, 9);
    x[1] ^= rotl((x[13] + x[9]) >>> 0, 13); x[5] ^= rotl((x[1] + x[13]) >>> 0, 18);
    x[14] ^= rotl((x[10] + x[6]) >>> 0, 7); x[2] ^= rotl((x[14] + x[10]) >>> 0, 9);
    x[6] ^= rotl((x[2] + x[14]) >>> 0, 13); x[10] ^= rotl((x[6] + x[2]) >>> 0, 18);
    x[3] ^= rotl((x[15] + x[11]) >>> 0, 7); x[7] ^= rotl((x[3] + x[15]) >>> 0, 9);
    x[11] ^= rotl((x[7] + x[3]) >>> 0, 13); x[15] ^= rotl((x[11] + x[7]) >>> 0, 18);
    x[1] ^= rotl((x[0] + x[3]) >>> 0, 7); x[2] ^= rotl((x[1] + x[0]) >>> 0, 9);
    x[3] ^= rotl((x[2] + x[1]) >>> 0, 13); x[0] ^= rotl((x[3] + x[2]) >>> 0, 18);
    x[6] ^= rotl((x[5] + x[4]) >>> 0, 7); x[7] ^= rotl((x[6] + x[5]) >>> 0, 9);
    x[4] ^= rotl((x[7] + x[6]) >>> 0, 13); x[5] ^= rotl((x[4] + x[7]) >>> 0, 18);
    x[11] ^= rotl((x[10] + x[9]) >>> 0, 7); x[8] ^= rotl((x[11] + x[10]) >>> 0, 9);
    x[9] ^= rotl((x[8] + x[11]) >>> 0, 13); x[10] ^= rotl((x[9] + x[8]) >>> 0, 18);
    x[12] ^= rotl((x[15] + x[14]) >>> 0, 7); x[13] ^= rotl((x[12] + x[15]) >>> 0, 9);
    x[14] ^= rotl((x[13] + x[12]) >>> 0, 13); x[15] ^= rotl((x[14] + x[13]) >>> 0, 18);
  }
}

/** The Salsa20 input matrix for a 32-byte key and a 16-byte "input" (nonce + counter, or HSalsa20 nonce). */
function initialState(key: Uint8Array, input: Uint8Array): Uint32Array {
  const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  const n = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return Uint32Array.from([
    SIGMA[0]!, k.readUInt32LE(0), k.readUInt32LE(4), k.readUInt32LE(8),
    k.readUInt32LE(12), SIGMA[1]!, n.readUInt32LE(0), n.readUInt32LE(4),
    n.readUInt32LE(8), n.readUInt32LE(12), SIGMA[2]!, k.readUInt32LE(16),
    k.readUInt32LE(20), k.readUInt32LE(24), k.readUInt32LE(28), SIGMA[3]!,
  ]);
}

/** HSalsa20: derives the XSalsa20 subkey from the key and the first 16 nonce bytes. */
function hsalsa20(key: Uint8Array, nonce16: Uint8Array): Buffer {
  const x = initialState(key, nonce16);
  salsaRounds(x);
  const out = Buffer.alloc(32);
  [0, 5, 10, 15, 6, 7, 8, 9].forEach((idx, i) => out.writeUInt32LE(x[idx]!, i * 4));
  return out;
}

/** XSalsa20 key stream XORed into `data` (counter starting at 0). */
function xsalsa20Xor(key: Uint8Array, nonce: Uint8Array, data: Uint8Array): Buffer {
  const subkey = hsalsa20(key, nonce.subarray(0, 16));
  const input = Buffer.alloc(16);
  Buffer.from(nonce.subarray(16, 24)).copy(input, 0);
  const out = Buffer.alloc(data.length);
  const block = Buffer.alloc(64);
  for (let offset = 0, counter = 0n; offset < data.length; offset += 64, counter++) {
    input.writeBigUInt64LE(counter, 8);
    const start = initialState(subkey, input);
    const x = Uint32Array.from(start);
    salsaRounds(x);
    for (let i = 0; i < 16; i++) block.writeUInt32LE((x[i]! + start[i]!) >>> 0, i * 4);
    const n = Math.min(64, data.length - offset);
    for (let i = 0; i < n; i++) out[offset + i] = data[offset + i]! ^ block[i]!;
  }
  return out;
}

const P1305 = (1n << 130n) - 5n;

function leBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** Poly1305 one-time authenticator (BigInt arithmetic: inputs here are a few hundred bytes). */
export function poly1305(key: Uint8Array, message: Uint8Array): Buffer {
  const r = leBigInt(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = leBigInt(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < message.length; i += 16) {
    const chunk = message.subarray(i, Math.min(i + 16, message.length));
    const n = leBigInt(chunk) + (1n << BigInt(8 * chunk.length));
    acc = ((acc + n) * r) % P1305;
  }
  let tag = (acc + s) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++, tag >>= 8n) out[i] = Number(tag & 0xffn);
  return out;
}

function checkSizes(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== SECRETBOX_KEY_BYTES) throw new RangeError('secretbox key must be 32 bytes');
  if (nonce.length !== SECRETBOX_NONCE_BYTES) throw new RangeError('secretbox nonce must be 24 bytes');
}

/** Seal: tag || XSalsa20(message), the Poly1305 key being the first 32 bytes of the key stream. */
export function secretboxSeal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  checkSizes(key, nonce);
  const stream = xsalsa20Xor(key, nonce, Buffer.concat([Buffer.alloc(32), message]));
  const ciphertext = stream.subarray(32);
  return Buffer.concat([poly1305(stream.subarray(0, 32), ciphertext), ciphertext]);
}

/** Open a sealed box; undefined when the tag does not authenticate (wrong key/password or altered bytes). */
export function secretboxOpen(sealed: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | undefined {
  checkSizes(key, nonce);
  if (sealed.length < SECRETBOX_TAG_BYTES) return undefined;
  const tag = sealed.subarray(0, SECRETBOX_TAG_BYTES);
  const ciphertext = sealed.subarray(SECRETBOX_TAG_BYTES);
  const stream = xsalsa20Xor(key, nonce, Buffer.concat([Buffer.alloc(32), ciphertext]));
  if (!timingSafeEqual(poly1305(stream.subarray(0, 32), ciphertext), tag)) return undefined;
  return stream.subarray(32);
}
