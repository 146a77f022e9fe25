import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as der from './der.js';
import { listen, readJson, sendJson, stopServer } from './sigstore-http.js';

/**
 * A stand-in for Fulcio's v2 API (POST /api/v2/signingCert), on a loopback port, with a CA and a CT log key it
 * makes itself. It does what Fulcio does with a request: reads the OIDC token's issuer, fetches that issuer's
 * discovery document and JWKS, verifies the token (signature, audience `sigstore`, expiry), checks the proof of
 * possession (the requester's signature over the token's `sub`, or `email`), and issues a 10-minute leaf from its
 * intermediate CA with the identity SAN (URI for a GitHub workflow, email otherwise), the Fulcio issuer extensions
 * (1.3.6.1.4.1.57264.1.1 raw, .1.8 DER) and the GitHub workflow ones, and an embedded RFC 6962 precertificate SCT
 * signed by its CT log key over the TBS without the SCT extension and the issuer key hash.
 * Errors are the gRPC-gateway JSON Fulcio answers with ({code, message}).
 */
export interface FulcioStandIn {
  url: string;
  /** Root then intermediate, DER. The leaf's chain in responses is [leaf, intermediate, root]. */
  root: Buffer;
  intermediate: Buffer;
  /** The CT log's public key; its log ID is the SHA-256 of the SPKI. */
  ctLogKey: KeyObject;
  /** Requests answered, with the status given. */
  requests: Array<{ status: number; subject?: string }>;
  stop(): Promise<void>;
}

const OID = {
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  sct: '1.3.6.1.4.1.11129.2.4.2',
  fulcio: (n: number) => `1.3.6.1.4.1.57264.1.${n}`,
};

const ORGANIZATION = 'oci-artifact-test';
const LEAF_LIFETIME_MS = 10 * 60 * 1000;

interface CaKey {
  key: KeyObject;
  publicKey: KeyObject;
  name: Buffer;
}

function ecKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function caCertificate(subject: CaKey, issuer: CaKey, pathLength: number | undefined, now: number): Buffer {
  const constraints = der.sequence(der.boolean(true), ...(pathLength === undefined ? [] : [der.integer(pathLength)]));
  const tbs = der.tbsCertificate({
    serial: randomBytes(16),
    issuer: issuer.name,
    subject: subject.name,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 7 * 86400_000),
    publicKey: subject.publicKey,
    extensions: [
      der.extension(OID.keyUsage, true, der.bitString(Buffer.from([0x06]), 1)), // keyCertSign, cRLSign
      der.extension(OID.basicConstraints, true, constraints),
      der.extension(OID.subjectKeyId, false, der.octetString(der.keyIdentifier(subject.publicKey))),
      ...(subject === issuer ? [] : [der.extension(OID.authorityKeyId, false, der.sequence(der.implicit(0, der.keyIdentifier(issuer.publicKey))))]),
    ],
  });
  return der.signCertificate(tbs, issuer.key);
}

/** GitHub workflow claims as Fulcio maps them to certificate extensions (fulcio docs/oid-info.md). */
function githubExtensions(claims: Record<string, unknown>): Buffer[] {
  const s = (k: string): string | undefined => (typeof claims[k] === 'string' ? (claims[k] as string) : undefined);
  const gh = (path: string | undefined): string | undefined => (path === undefined ? undefined : `https://github.com/${path}`);
  const raw: Array<[number, string | undefined]> = [[2, s('event_name')], [3, s('sha')], [4, s('workflow')], [5, s('repository')], [6, s('ref')]];
  const run = s('run_id') && s('run_attempt') ? `${gh(s('repository'))}/actions/runs/${s('run_id')}/attempts/${s('run_attempt')}` : undefined;
  const utf8: Array<[number, string | undefined]> = [
    [9, gh(s('job_workflow_ref'))], [10, s('job_workflow_sha')], [11, s('runner_environment')], [12, gh(s('repository'))],
    [13, s('sha')], [14, s('ref')], [15, s('repository_id')], [16, gh(s('repository_owner'))], [17, s('repository_owner_id')],
    [18, gh(s('workflow_ref'))], [19, s('workflow_sha')], [20, s('event_name')], [21, run], [22, s('repository_visibility')],
  ];
  return [
    ...raw.filter(([, v]) => v !== undefined).map(([n, v]) => der.extension(OID.fulcio(n), false, Buffer.from(v!, 'utf8'))),
    ...utf8.filter(([, v]) => v !== undefined).map(([n, v]) => der.extension(OID.fulcio(n), false, der.utf8String(v!))),
  ];
}

/** RFC 6962 §3.2: the SCT's TLS encoding, signed over the precertificate entry. */
function signedCertificateTimestamp(ctKey: KeyObject, ctPublic: KeyObject, issuerKey: KeyObject, tbsWithoutSct: Buffer, when: number): Buffer {
  const timestamp = Buffer.alloc(8);
  timestamp.writeBigUInt64BE(BigInt(when));
  const issuerKeyHash = createHash('sha256').update(der.spki(issuerKey)).digest();
  const tbsLength = Buffer.alloc(3);
  tbsLength.writeUIntBE(tbsWithoutSct.length, 0, 3);
  const signed = Buffer.concat([
    Buffer.from([0, 0]), // v1, certificate_timestamp
    timestamp,
    Buffer.from([0, 1]), // precert_entry
    issuerKeyHash,
    tbsLength,
    tbsWithoutSct,
    Buffer.from([0, 0]), // no extensions
  ]);
  const signature = sign('sha256', signed, ctKey);
  const sigLength = Buffer.alloc(2);
  sigLength.writeUInt16BE(signature.length);
  const sct = Buffer.concat([
    Buffer.from([0]),
    createHash('sha256').update(der.spki(ctPublic)).digest(), // log ID
    timestamp,
    Buffer.from([0, 0]),
    Buffer.from([4, 3]), // sha256, ecdsa
    sigLength,
    signature,
  ]);
  const list = Buffer.alloc(4);
  list.writeUInt16BE(sct.length + 2, 0);
  list.writeUInt16BE(sct.length, 2);
  return Buffer.concat([list, sct]);
}

class FulcioError extends Error {
  constructor(
    readonly status: number,
    readonly grpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

async function fetchJson(url: string): Promise<any> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return res.json();
}

/** Verify an RS256/ES256 ID token against its issuer's JWKS, fetched through OIDC discovery. */
async function verifyIdToken(token: string, trustedIssuers: string[]): Promise<Record<string, unknown>> {
  const unauthenticated = (why: string) => new FulcioError(401, 16, `There was an error processing the identity token: ${why}`);
  const parts = token.split('.');
  if (parts.length !== 3) throw unauthenticated('not a JWT');
  let header: { alg?: string; kid?: string };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw unauthenticated('malformed JWT');
  }
  const iss = claims.iss;
  if (typeof iss !== 'string' || !trustedIssuers.includes(iss)) throw unauthenticated(`unknown issuer ${String(iss)}`);
  const discovery = await fetchJson(`${iss}/.well-known/openid-configuration`);
  const jwks = await fetchJson(discovery.jwks_uri);
  const jwk = (jwks.keys as Array<Record<string, unknown>>).find((k) => k.kid === header.kid);
  if (!jwk) throw unauthenticated('no key in the issuer JWKS matches the token kid');
  const key = createPublicKey({ key: jwk as any, format: 'jwk' });
  const input = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2]!, 'base64url');
  const ok = header.alg === 'RS256' ? verify('RSA-SHA256', input, key, signature)
    : header.alg === 'ES256' ? verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature) : false;
  if (!ok) throw unauthenticated('signature does not verify');
  const aud = claims.aud;
  if (!(aud === 'sigstore' || (Array.isArray(aud) && aud.includes('sigstore')))) throw unauthenticated('audience is not sigstore');
  const now = Date.now() / 1000;
  if (typeof claims.exp !== 'number' || claims.exp < now) throw unauthenticated('token expired');
  if (typeof claims.nbf === 'number' && claims.nbf > now + 60) throw unauthenticated('token not yet valid');
  return claims;
}

export async function startFulcio(options: { issuers: string[] }): Promise<FulcioStandIn> {
  const now = Date.now();
  const rootPair = ecKey();
  const intermediatePair = ecKey();
  const ct = ecKey();
  const root: CaKey = { key: rootPair.privateKey, publicKey: rootPair.publicKey, name: der.name({ organization: ORGANIZATION, commonName: 'fulcio stand-in root' }) };
  const intermediate: CaKey = {
    key: intermediatePair.privateKey,
    publicKey: intermediatePair.publicKey,
    name: der.name({ organization: ORGANIZATION, commonName: 'fulcio stand-in intermediate' }),
  };
  const rootDer = caCertificate(root, root, undefined, now);
  const intermediateDer = caCertificate(intermediate, root, 0, now);
  const requests: FulcioStandIn['requests'] = [];

  const issue = (claims: Record<string, unknown>, publicKey: KeyObject): Buffer => {
    const github = typeof claims.job_workflow_ref === 'string';
    const identity = github ? `https://github.com/${claims.job_workflow_ref}` : typeof claims.email === 'string' ? claims.email : String(claims.sub);
    const san = github || !identity.includes('@') ? der.implicit(6, Buffer.from(identity, 'ascii')) : der.implicit(1, Buffer.from(identity, 'ascii'));
    const issuer = claims.iss as string;
    const extensions = [
      der.extension(OID.keyUsage, true, der.bitString(Buffer.from([0x80]), 7)), // digitalSignature
      der.extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.codeSigning))),
      der.extension(OID.subjectKeyId, false, der.octetString(der.keyIdentifier(publicKey))),
      der.extension(OID.authorityKeyId, false, der.sequence(der.implicit(0, der.keyIdentifier(intermediate.publicKey)))),
      der.extension(OID.subjectAltName, true, der.sequence(san)),
      der.extension(OID.fulcio(1), false, Buffer.from(issuer, 'utf8')),
      der.extension(OID.fulcio(8), false, der.utf8String(issuer)),
      ...(github ? githubExtensions(claims) : []),
    ];
    const issuedAt = Date.now();
    const fields = {
      serial: randomBytes(20),
      issuer: intermediate.name,
      subject: der.sequence(),
      notBefore: new Date(Math.floor(issuedAt / 1000) * 1000),
      notAfter: new Date(Math.floor(issuedAt / 1000) * 1000 + LEAF_LIFETIME_MS),
      publicKey,
      extensions,
    };
    const sct = signedCertificateTimestamp(ct.privateKey, ct.publicKey, intermediate.publicKey, der.tbsCertificate(fields), issuedAt);
    const tbs = der.tbsCertificate({ ...fields, extensions: [...extensions, der.extension(OID.sct, false, der.octetString(sct))] });
    return der.signCertificate(tbs, intermediate.key);
  };

  const signingCert = async (body: any): Promise<unknown> => {
    const token = body?.credentials?.oidcIdentityToken;
    if (typeof token !== 'string') throw new FulcioError(401, 16, 'The client did not provide an identity token');
    const claims = await verifyIdToken(token, options.issuers);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey(String(body?.publicKeyRequest?.publicKey?.content));
    } catch {
      throw new FulcioError(400, 3, 'The public key supplied in the request could not be parsed');
    }
    const subject = typeof claims.email === 'string' ? claims.email : String(claims.sub);
    const proof = Buffer.from(String(body?.publicKeyRequest?.proofOfPossession ?? ''), 'base64');
    if (!verify('sha256', Buffer.from(subject), publicKey, proof)) {
      throw new FulcioError(400, 3, 'The signature supplied in the request could not be verified');
    }
    const leaf = issue(claims, publicKey);
    requests.push({ status: 200, subject });
    return { signedCertificateEmbeddedSct: { chain: { certificates: [der.pem(leaf), der.pem(intermediateDer), der.pem(rootDer)] } } };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://fulcio').pathname;
    if (req.method === 'GET' && path === '/api/v2/trustBundle') {
      return sendJson(res, 200, { chains: [{ certificates: [der.pem(intermediateDer), der.pem(rootDer)] }] });
    }
    if (req.method !== 'POST' || path !== '/api/v2/signingCert') return sendJson(res, 404, { code: 5, message: 'Not Found' });
    try {
      sendJson(res, 200, await signingCert(await readJson(req)));
    } catch (err) {
      if (!(err instanceof FulcioError)) throw err;
      requests.push({ status: err.status });
      sendJson(res, err.status, { code: err.grpcCode, message: err.message, details: [] });
    }
  };

  const { server, url } = await listen(handle);
  return { url, root: rootDer, intermediate: intermediateDer, ctLogKey: ct.publicKey, requests, stop: () => stopServer(server) };
}
