import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { spki } from './der.js';
import { canonicalJson, listen, readJson, sendJson, stopServer } from './sigstore-http.js';

/**
 * A stand-in for Rekor's v1 API, on a loopback port, with a log key it makes itself. POST /api/v1/log/entries
 * takes `hashedrekord` 0.0.1 and `dsse` 0.0.1 proposed entries, checks them as Rekor does (the hashedrekord
 * signature over the digest with its key, P-256 only; a DSSE signature over the PAE with each verifier), canonicalizes the body, appends it to an
 * RFC 6962 Merkle tree and answers 201 with {uuid: {body, integratedTime, logID, logIndex, verification:
 * {signedEntryTimestamp, inclusionProof {logIndex, treeSize, rootHash, hashes, checkpoint}}}}; a second copy of an
 * entry is 409 with the Location of the first. GET /api/v1/log/entries/{uuid}, ?logIndex=N, /api/v1/log and
 * /api/v1/log/publicKey answer as Rekor does. The checkpoint is a signed note: origin, size, root, and the line
 * "— <host> base64(keyhint || signature)".
 */
export interface RekorStandIn {
  url: string;
  publicKey: KeyObject;
  /** SHA-256 of the log key's SubjectPublicKeyInfo. */
  logId: Buffer;
  /** Canonical bodies in log order. */
  entries: Buffer[];
  /** Entry kinds posted, with the status answered. */
  requests: Array<{ kind?: string; status: number }>;
  stop(): Promise<void>;
}

const leafHash = (leaf: Buffer): Buffer => createHash('sha256').update(Buffer.from([0])).update(leaf).digest();
const nodeHash = (l: Buffer, r: Buffer): Buffer => createHash('sha256').update(Buffer.from([1])).update(l).update(r).digest();
/** Largest power of two smaller than n (n > 1). */
const split = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

/** RFC 6962 §2.1 Merkle tree hash of leaf hashes. */
function treeHash(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return nodeHash(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

/** RFC 6962 §2.1.1 audit path of leaf m, lowest level first. */
function auditPath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), treeHash(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), treeHash(leaves.slice(0, k))];
}

class RekorError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly location?: string,
  ) {
    super(message);
  }
}

function pae(type: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), payload]);
}

/** A verifier as Rekor takes it: base64 of a PEM public key or certificate. */
function verifierKey(b64: unknown): KeyObject {
  const text = Buffer.from(String(b64 ?? ''), 'base64').toString('utf8');
  try {
    return text.includes('CERTIFICATE') ? new X509Certificate(text).publicKey : createPublicKey(text);
  } catch {
    throw new RekorError(400, 'invalid public key or certificate');
  }
}

const sha256hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * ECDSA P-256 verification of a signature over a digest given as is (hashedrekord carries the digest, never the
 * data, and node:crypto only verifies data it hashes itself): SEC 1 §4.1.4 with affine point arithmetic.
 */
const P256 = {
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  a: -3n,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  g: [0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n, 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n] as const,
};
type Point = readonly [bigint, bigint] | null;
const mod = (x: bigint, m: bigint): bigint => ((x % m) + m) % m;
function inverse(x: bigint, m: bigint): bigint {
  let [a, b, u, v] = [mod(x, m), m, 1n, 0n];
  while (b !== 0n) {
    const q = a / b;
    [a, b, u, v] = [b, a - q * b, v, u - q * v];
  }
  return mod(u, m);
}
function add(P: Point, Q: Point): Point {
  if (P === null) return Q;
  if (Q === null) return P;
  const { p, a } = P256;
  if (P[0] === Q[0] && mod(P[1] + Q[1], p) === 0n) return null;
  const l = P[0] === Q[0] ? mod((3n * P[0] * P[0] + a) * inverse(2n * P[1], p), p) : mod((Q[1] - P[1]) * inverse(Q[0] - P[0], p), p);
  const x = mod(l * l - P[0] - Q[0], p);
  return [x, mod(l * (P[0] - x) - P[1], p)];
}
function multiply(k: bigint, P: Point): Point {
  let result: Point = null;
  for (let addend = P; k > 0n; k >>= 1n, addend = add(addend, addend)) if (k & 1n) result = add(result, addend);
  return result;
}
function verifyP256Digest(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256') return false;
  const int = (b64: string): bigint => BigInt(`0x${Buffer.from(b64, 'base64url').toString('hex')}`);
  // DER: SEQUENCE { INTEGER r, INTEGER s } (short lengths: a P-256 signature is at most 72 bytes).
  if (signature[0] !== 0x30 || signature[2] !== 0x02) return false;
  const rLen = signature[3]!;
  const r = BigInt(`0x${signature.subarray(4, 4 + rLen).toString('hex')}`);
  const s = BigInt(`0x${signature.subarray(6 + rLen, 6 + rLen + signature[5 + rLen]!).toString('hex')}`);
  const { n, g } = P256;
  if (r <= 0n || r >= n || s <= 0n || s >= n) return false;
  const w = inverse(s, n);
  const e = BigInt(`0x${digest.toString('hex')}`);
  const R = add(multiply(mod(e * w, n), g), multiply(mod(r * w, n), [int(jwk.x!), int(jwk.y!)]));
  return R !== null && mod(R[0], n) === r;
}

/** The canonical body Rekor stores for a proposed entry. */
function canonicalize(entry: any): Record<string, unknown> {
  if (entry?.kind === 'hashedrekord' && entry.apiVersion === '0.0.1') {
    const hash = entry.spec?.data?.hash;
    if (hash?.algorithm !== 'sha256' || !/^[0-9a-f]{64}$/.test(String(hash.value))) throw new RekorError(400, 'invalid hash');
    const key = verifierKey(entry.spec?.signature?.publicKey?.content);
    const signature = Buffer.from(String(entry.spec?.signature?.content ?? ''), 'base64');
    if (!verifyP256Digest(key, Buffer.from(hash.value, 'hex'), signature)) throw new RekorError(400, 'verifying signature: invalid signature when validating ASN.1 encoded signature');
    return {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: hash.value } },
        signature: { content: entry.spec.signature.content, publicKey: { content: entry.spec.signature.publicKey.content } },
      },
    };
  }
  if (entry?.kind === 'dsse' && entry.apiVersion === '0.0.1') {
    const raw = entry.spec?.proposedContent?.envelope;
    const verifiers: unknown[] = entry.spec?.proposedContent?.verifiers ?? [];
    let envelope: { payloadType: string; payload: string; signatures: Array<{ sig: string }> };
    try {
      envelope = JSON.parse(String(raw));
    } catch {
      throw new RekorError(400, 'envelope is not JSON');
    }
    const payload = Buffer.from(envelope.payload, 'base64');
    const keys = verifiers.map(verifierKey);
    const signatures = envelope.signatures.map((s) => {
      const sig = Buffer.from(s.sig, 'base64');
      const index = keys.findIndex((k) => verify('sha256', pae(envelope.payloadType, payload), k, sig));
      if (index < 0) throw new RekorError(400, 'could not verify envelope signature with any verifier');
      return { signature: s.sig, verifier: verifiers[index] };
    });
    return {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: sha256hex(String(raw)) },
        payloadHash: { algorithm: 'sha256', value: sha256hex(payload) },
        signatures,
      },
    };
  }
  throw new RekorError(400, `unsupported entry kind ${String(entry?.kind)}/${String(entry?.apiVersion)}`);
}

export async function startRekor(): Promise<RekorStandIn> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const logId = createHash('sha256').update(spki(publicKey)).digest();
  const treeId = BigInt(`0x${randomBytes(7).toString('hex')}`).toString();
  const treeIdHex = BigInt(treeId).toString(16).padStart(16, '0');
  const entries: Buffer[] = [];
  const leaves: Buffer[] = [];
  const integrated: number[] = [];
  const requests: RekorStandIn['requests'] = [];
  let host = '';

  const uuidOf = (index: number): string => `${treeIdHex}${leaves[index]!.toString('hex')}`;

  const checkpoint = (size: number, root: Buffer): string => {
    const note = `${host} - ${treeId}\n${size}\n${root.toString('base64')}\n`;
    const signature = Buffer.concat([logId.subarray(0, 4), sign('sha256', Buffer.from(note), privateKey)]);
    return `${note}\n\u2014 ${host} ${signature.toString('base64')}\n`;
  };

  const entryResponse = (index: number): Record<string, unknown> => {
    const body = entries[index]!.toString('base64');
    const integratedTime = integrated[index]!;
    const logID = logId.toString('hex');
    const set = sign('sha256', Buffer.from(canonicalJson({ body, integratedTime, logID, logIndex: index })), privateKey);
    const root = treeHash(leaves);
    return {
      [uuidOf(index)]: {
        body,
        integratedTime,
        logID,
        logIndex: index,
        verification: {
          signedEntryTimestamp: set.toString('base64'),
          inclusionProof: {
            logIndex: index,
            treeSize: leaves.length,
            rootHash: root.toString('hex'),
            hashes: auditPath(index, leaves).map((h) => h.toString('hex')),
            checkpoint: checkpoint(leaves.length, root),
          },
        },
      },
    };
  };

  const create = async (req: IncomingMessage): Promise<{ index: number }> => {
    const proposed = (await readJson(req)) as any;
    const body = Buffer.from(canonicalJson(canonicalize(proposed)));
    const leaf = leafHash(body);
    const existing = leaves.findIndex((l) => l.equals(leaf));
    if (existing >= 0) throw new RekorError(409, 'an equivalent entry already exists in the transparency log', `/api/v1/log/entries/${uuidOf(existing)}`);
    entries.push(body);
    leaves.push(leaf);
    integrated.push(Math.floor(Date.now() / 1000));
    requests.push({ kind: proposed.kind, status: 201 });
    return { index: leaves.length - 1 };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://rekor');
    const path = url.pathname.replace(/\/$/, '');
    try {
      if (req.method === 'POST' && path === '/api/v1/log/entries') {
        const { index } = await create(req);
        return sendJson(res, 201, entryResponse(index), { location: `/api/v1/log/entries/${uuidOf(index)}` });
      }
      if (req.method === 'GET' && path === '/api/v1/log/entries') {
        const index = Number(url.searchParams.get('logIndex'));
        if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RekorError(404, 'entry not found');
        return sendJson(res, 200, entryResponse(index));
      }
      const byUuid = /^\/api\/v1\/log\/entries\/([0-9a-f]{64,80})$/.exec(path);
      if (req.method === 'GET' && byUuid) {
        const hash = byUuid[1]!.slice(-64);
        const index = leaves.findIndex((l) => l.toString('hex') === hash);
        if (index < 0) throw new RekorError(404, 'entry not found');
        return sendJson(res, 200, entryResponse(index));
      }
      if (req.method === 'GET' && path === '/api/v1/log') {
        const root = treeHash(leaves);
        return sendJson(res, 200, { rootHash: root.toString('hex'), treeSize: leaves.length, signedTreeHead: checkpoint(leaves.length, root), treeID: treeId });
      }
      if (req.method === 'GET' && path === '/api/v1/log/publicKey') {
        res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(publicKey.export({ format: 'pem', type: 'spki' }));
        return;
      }
      throw new RekorError(404, 'Not Found');
    } catch (err) {
      if (!(err instanceof RekorError)) throw err;
      if (req.method === 'POST') requests.push({ status: err.status });
      sendJson(res, err.status, { code: err.status, message: err.message }, err.location ? { location: err.location } : {});
    }
  };

  const { server, url } = await listen(handle);
  host = url.replace(/^http:\/\//, '');
  return { url, publicKey, logId, entries, requests, stop: () => stopServer(server) };
}
