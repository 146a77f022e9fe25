import { createHash, sign, type KeyObject } from 'node:crypto';

/**
 * A small DER writer and X.509 certificate builder for the Sigstore stand-ins (test/helpers/fulcio.ts): Fulcio's
 * leaf carries an embedded SCT whose signature covers the certificate's own TBS without that extension, which
 * openssl cannot produce in one pass. Only what those certificates need; every length is minimal (DER), so a
 * verifier that re-encodes the TBS (as @sigstore/verify does for the SCT check) gets the same bytes back.
 */
export function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
export const octetString = (bytes: Buffer): Buffer => tlv(0x04, bytes);
export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
export const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
/** A BIT STRING with `unused` padding bits in its last byte. */
export const bitString = (bytes: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
/** [n] EXPLICIT: a constructed context-specific wrapper. */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);
/** [n] IMPLICIT over a primitive value (GeneralName's rfc822Name [1], URI [6], key identifier [0]). */
export const implicit = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content);

/** A non-negative INTEGER from its big-endian magnitude (a leading zero is added when the high bit is set). */
export function integer(magnitude: Buffer | number): Buffer {
  let bytes = typeof magnitude === 'number' ? Buffer.from([magnitude]) : magnitude;
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && bytes[start + 1]! < 0x80) start++;
  bytes = bytes.subarray(start);
  return tlv(0x02, bytes[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const base128: number[] = [];
    let v = part;
    do {
      base128.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < base128.length - 1; i++) base128[i]! |= 0x80;
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime for years before 2050, GeneralizedTime after, as RFC 5280 requires. */
export function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'));
}

/** A distinguished name: organization and common name (empty for Fulcio's leaf, whose identity is in the SAN). */
export function name(parts: { organization?: string; commonName?: string }): Buffer {
  const rdns: Buffer[] = [];
  if (parts.organization !== undefined) rdns.push(set(sequence(oid('2.5.4.10'), utf8String(parts.organization))));
  if (parts.commonName !== undefined) rdns.push(set(sequence(oid('2.5.4.3'), utf8String(parts.commonName))));
  return sequence(...rdns);
}

export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

export function spki(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' });
}

/** RFC 5280 key identifier method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(key: KeyObject): Buffer {
  const info = spki(key);
  // The SPKI ends with the BIT STRING of the key; for the EC keys used here it is the last 66 bytes (0x00 + 65).
  return createHash('sha1').update(info.subarray(info.length - 65)).digest();
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

export interface TbsFields {
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  extensions: Buffer[];
}

export function tbsCertificate(f: TbsFields): Buffer {
  return sequence(
    explicit(0, integer(2)), // v3
    integer(f.serial),
    ECDSA_WITH_SHA256,
    f.issuer,
    sequence(time(f.notBefore), time(f.notAfter)),
    f.subject,
    spki(f.publicKey),
    explicit(3, sequence(...f.extensions)),
  );
}

/** The certificate DER: TBS signed ECDSA-SHA256 by the issuer's key. */
export function signCertificate(tbs: Buffer, issuerKey: KeyObject): Buffer {
  return sequence(tbs, ECDSA_WITH_SHA256, bitString(sign('sha256', tbs, issuerKey)));
}

export function pem(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
