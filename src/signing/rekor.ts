/**
 * The Rekor "bundle" annotation of legacy cosign signatures (`dev.sigstore.cosign/bundle`): a Signed Entry
 * Timestamp (the log's signature over the canonical JSON of body, integratedTime, logID, logIndex) and the entry
 * body, which must describe this very signature (hashedrekord: payload hash, signature bytes, public key).
 */
import { createHash, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { spkiDer } from './keys.js';
import type { TLogAuthority } from './trust.js';

interface RekorAnnotation {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

export type RekorCheck = { ok: true; integratedTime: Date; logIndex: number } | { ok: false; reason: string };

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function parseRekorAnnotation(text: string): RekorAnnotation | undefined {
  try {
    const v = JSON.parse(text) as RekorAnnotation;
    const p = v?.Payload;
    if (typeof v.SignedEntryTimestamp !== 'string' || typeof p?.body !== 'string' || typeof p.logID !== 'string') return undefined;
    if (!Number.isSafeInteger(p.integratedTime) || !Number.isSafeInteger(p.logIndex)) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

/**
 * Check the SET against the given logs (matched by log ID and validity at the integrated time), then that the
 * hashedrekord body names sha256(payload), the same signature and, when given, the same public key.
 */
export function verifyRekorAnnotation(
  text: string,
  payload: Buffer,
  signature: Buffer,
  signerKey: KeyObject | undefined,
  logs: readonly TLogAuthority[],
): RekorCheck {
  const ann = parseRekorAnnotation(text);
  if (!ann) return { ok: false, reason: 'Rekor bundle annotation is malformed' };
  const { body, integratedTime, logIndex, logID } = ann.Payload;
  const when = new Date(integratedTime * 1000);
  const logId = Buffer.from(logID, 'hex');
  const candidates = logs.filter((l) => sameBytes(l.logID, logId) && l.validFor.start <= when && when <= l.validFor.end);
  if (candidates.length === 0) return { ok: false, reason: `Rekor entry is from log ${logID.slice(0, 16)}…, which is not trusted` };
  // Canonical JSON (RFC 8785): keys sorted, no whitespace; all values here are ASCII strings or integers.
  const canonical = Buffer.from(JSON.stringify({ body, integratedTime, logID, logIndex }), 'utf8');
  const set = Buffer.from(ann.SignedEntryTimestamp, 'base64');
  if (!candidates.some((l) => safeVerify(l.publicKey, canonical, set))) {
    return { ok: false, reason: 'Rekor signed entry timestamp does not verify with the log key' };
  }
  let entry: { kind?: string; apiVersion?: string; spec?: any };
  try {
    entry = JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
  } catch {
    return { ok: false, reason: 'Rekor entry body is not JSON' };
  }
  if (entry.kind !== 'hashedrekord' || entry.apiVersion !== '0.0.1') {
    return { ok: false, reason: `Rekor entry kind ${entry.kind}/${entry.apiVersion} is not supported (expected hashedrekord/0.0.1)` };
  }
  const hash = entry.spec?.data?.hash;
  if (hash?.algorithm !== 'sha256' || hash.value !== createHash('sha256').update(payload).digest('hex')) {
    return { ok: false, reason: 'Rekor entry records a different payload hash' };
  }
  if (!sameBytes(Buffer.from(String(entry.spec?.signature?.content ?? ''), 'base64'), signature)) {
    return { ok: false, reason: 'Rekor entry records a different signature' };
  }
  if (signerKey) {
    try {
      const logged = createPublicKey(Buffer.from(String(entry.spec?.signature?.publicKey?.content ?? ''), 'base64').toString('utf8'));
      if (!sameBytes(spkiDer(logged), spkiDer(signerKey))) return { ok: false, reason: 'Rekor entry records a different public key' };
    } catch {
      return { ok: false, reason: 'Rekor entry public key is unreadable' };
    }
  }
  return { ok: true, integratedTime: when, logIndex };
}

function safeVerify(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    return verify('sha256', data, key, sig);
  } catch {
    return false;
  }
}
