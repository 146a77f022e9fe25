/**
 * What notation needs from X.509 beyond node:crypto's X509Certificate: key usage bits, the list of critical
 * extensions, revocation endpoints (read with a minimal DER walker), and the code-signing chain rules.
 */
import { X509Certificate } from 'node:crypto';

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function readTlv(buf: Buffer, pos: number): Tlv {
  const tag = buf[pos]!;
  let len = buf[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > buf.length) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.start; pos < parent.end; ) {
    const t = readTlv(buf, pos);
    out.push(t);
    pos = t.end;
  }
  return out;
}

function oidString(bytes: Buffer): string {
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let v = 0;
  for (const b of bytes.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

/** Extensions of a DER certificate (empty for v1 certificates). */
function extensionsOf(der: Buffer): Extension[] {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0]!;
  const ext = children(der, tbs).find((t) => t.tag === 0xa3);
  if (!ext) return [];
  const seq = children(der, ext)[0]!;
  return children(der, seq).map((e) => {
    const parts = children(der, e);
    const critical = parts.length === 3 && parts[1]!.tag === 0x01 && der[parts[1]!.start] !== 0;
    const value = parts[parts.length - 1]!;
    return { oid: oidString(der.subarray(parts[0]!.start, parts[0]!.end)), critical, value: der.subarray(value.start, value.end) };
  });
}

const OID = {
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  certificatePolicies: '2.5.29.32',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  codeSigning: '1.3.6.1.5.5.7.3.3',
} as const;

/** Extensions this verifier understands; any other critical extension makes the certificate unusable. */
const UNDERSTOOD = new Set<string>([OID.keyUsage, OID.basicConstraints, OID.extKeyUsage, OID.subjectAltName, OID.certificatePolicies]);

/** KeyUsage bits: index 0 = digitalSignature, 5 = keyCertSign. Undefined when the extension is absent. */
function keyUsageBits(exts: Extension[]): Set<number> | undefined {
  const ext = exts.find((e) => e.oid === OID.keyUsage);
  if (!ext) return undefined;
  const bitString = readTlv(ext.value, 0);
  const bytes = ext.value.subarray(bitString.start + 1, bitString.end);
  const bits = new Set<number>();
  bytes.forEach((byte, i) => {
    for (let b = 0; b < 8; b++) if (byte & (0x80 >> b)) bits.add(i * 8 + b);
  });
  return bits;
}

const OCSP_METHOD = Buffer.from('06082b06010505073001', 'hex');

/** True when the certificate names an OCSP responder or CRL distribution point (so it could be revoked). */
export function hasRevocationEndpoints(exts: Extension[]): boolean {
  return exts.some((e) => e.oid === OID.crlDistributionPoints || (e.oid === OID.authorityInfoAccess && e.value.includes(OCSP_METHOD)));
}

export interface ParsedCert {
  x509: X509Certificate;
  exts: Extension[];
  notBefore: Date;
  notAfter: Date;
}

export function parseCert(der: Buffer): ParsedCert {
  const x509 = new X509Certificate(der);
  return { x509, exts: extensionsOf(x509.raw), notBefore: new Date(x509.validFrom), notAfter: new Date(x509.validTo) };
}

/** Subject equals issuer and the signature verifies with its own key (checkIssued would also demand keyCertSign). */
function isSelfSigned(c: ParsedCert): boolean {
  return c.x509.subject === c.x509.issuer && c.x509.verify(c.x509.publicKey);
}

/**
 * Notation's code-signing chain rules (leaf first): each certificate issued and signed by the next, the issuers
 * CAs allowed to sign certificates, the last one self-signed (a lone self-signed leaf included), the leaf fit for
 * code signing (digitalSignature; codeSigning if it has an EKU; not a CA), no critical extension we do not know.
 * Undefined when fine, else the reason.
 */
export function codeSigningChainProblem(chain: ParsedCert[]): string | undefined {
  if (chain.length === 0) return 'signature carries no certificate';
  for (const [i, c] of chain.entries()) {
    const unknown = c.exts.find((e) => e.critical && !UNDERSTOOD.has(e.oid));
    if (unknown) return `certificate ${i} has an unsupported critical extension ${unknown.oid}`;
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i]!;
    const parent = chain[i + 1]!;
    if (!child.x509.checkIssued(parent.x509) || !child.x509.verify(parent.x509.publicKey)) {
      return `certificate ${i} is not issued by the next certificate in the chain`;
    }
    const bits = keyUsageBits(parent.exts);
    if (!parent.x509.ca || (bits !== undefined && !bits.has(5))) return `certificate ${i + 1} is not a CA allowed to sign certificates`;
  }
  if (!isSelfSigned(chain[chain.length - 1]!)) return 'the certificate chain does not end in a self-signed root';
  const leaf = chain[0]!;
  const usage = keyUsageBits(leaf.exts);
  if (!usage?.has(0)) return 'signing certificate lacks the digitalSignature key usage';
  const eku = leaf.exts.some((e) => e.oid === OID.extKeyUsage) ? (leaf.x509.keyUsage ?? []) : undefined;
  if (eku && !eku.includes(OID.codeSigning)) return `signing certificate is not for code signing (extended key usage ${eku.join(', ') || 'empty'})`;
  if (chain.length > 1 && leaf.x509.ca) return 'signing certificate is a CA certificate';
  return undefined;
}

/** Undefined when every certificate is valid at `at`, else the reason. */
export function validityProblem(chain: ParsedCert[], at: Date, what: string): string | undefined {
  for (const [i, c] of chain.entries()) {
    if (at < c.notBefore || at > c.notAfter) {
      const name = i === 0 ? 'signing certificate' : `certificate ${i}`;
      return `${name} is not valid at ${what} ${at.toISOString()} (valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()})`;
    }
  }
  return undefined;
}

/** `C=US, ST=WA, ...` from node's multi-line subject. */
export function subjectString(c: ParsedCert): string {
  return c.x509.subject.split('\n').join(', ');
}

/** RDNs of a distinguished name as attribute -> value (the string form `C=US, O=Notary, CN=x`, `\,` escapes). */
export function parseDn(dn: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  const parts = dn.split(/(?<!\\),/).map((s) => s.trim()).filter(Boolean);
  for (const p of parts) {
    const eq = p.indexOf('=');
    const key = p.slice(0, eq).trim().toUpperCase();
    // A repeated attribute would silently keep only its last value (notation refuses such identities).
    if (eq <= 0 || out.has(key)) return undefined;
    out.set(key, p.slice(eq + 1).trim().replace(/\\,/g, ','));
  }
  return out.size > 0 ? out : undefined;
}

/** RDNs of the certificate subject; undefined when an attribute repeats (notation refuses such subjects too). */
export function subjectRdns(c: ParsedCert): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const line of c.x509.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).toUpperCase();
    if (out.has(key)) return undefined;
    out.set(key, line.slice(eq + 1));
  }
  return out;
}
