/**
 * Verification of one notation signature against a trust policy, following the Notary Project verification
 * steps: integrity (envelope, critical headers, signature, target artifact), authenticity (code-signing chain,
 * trust store, trusted identity), authentic timestamp (certificate validity), expiry, revocation. Each check is
 * enforced, logged or skipped as the policy level and overrides say. Revocation (OCSP/CRL) is never queried:
 * a chain that names revocation endpoints fails when revocation is enforced, and is reported when logged.
 */
import { constants, verify, type KeyObject } from 'node:crypto';
import { MediaType } from '../../oci/mediatypes.js';
import type { Descriptor } from '../../oci/types.js';
import { shortDigest } from '../../ref/digest.js';
import type { SignatureResult } from '../types.js';
import { HEADER, parseEnvelope, type Envelope } from './envelope.js';
import type { Check, TrustPolicy } from './trust-policy.js';
import { storeCertificates, type TrustStore } from './trust-store.js';
import { codeSigningChainProblem, hasRevocationEndpoints, parseCert, subjectRdns, subjectString, validityProblem, type ParsedCert } from './x509.js';

export interface NotationContext {
  subject: Descriptor;
  policy: TrustPolicy;
  store: TrustStore;
  now: Date;
}

const SCHEMES = ['notary.x509', 'notary.x509.signingAuthority'];
const KNOWN_HEADERS = new Set<string>(['alg', 'crit', 'cty', HEADER.signingScheme, HEADER.signingTime, HEADER.expiry, HEADER.authenticSigningTime]);

const ALGS: Record<string, { type: 'rsa' | 'ec'; hash: string; curve?: string; salt?: number }> = {
  PS256: { type: 'rsa', hash: 'sha256', salt: 32 },
  PS384: { type: 'rsa', hash: 'sha384', salt: 48 },
  PS512: { type: 'rsa', hash: 'sha512', salt: 64 },
  ES256: { type: 'ec', hash: 'sha256', curve: 'prime256v1' },
  ES384: { type: 'ec', hash: 'sha384', curve: 'secp384r1' },
  ES512: { type: 'ec', hash: 'sha512', curve: 'secp521r1' },
};

function envelopeSignatureProblem(env: Envelope, key: KeyObject): string | undefined {
  const alg = ALGS[env.alg];
  if (!alg) return `signature algorithm ${env.alg} is not supported`;
  if (key.asymmetricKeyType !== alg.type || (alg.curve && key.asymmetricKeyDetails?.namedCurve !== alg.curve)) {
    return `signature algorithm ${env.alg} does not fit the signing certificate's key`;
  }
  const ok = (() => {
    try {
      return alg.type === 'rsa'
        ? verify(alg.hash, env.signedBytes, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.salt! }, env.signature)
        : verify(alg.hash, env.signedBytes, { key, dsaEncoding: 'ieee-p1363' }, env.signature);
    } catch {
      return false;
    }
  })();
  return ok ? undefined : 'signature does not match the signing certificate';
}

function headerProblem(env: Envelope): string | undefined {
  for (const name of env.crit) {
    if (name === HEADER.verificationPlugin || name === HEADER.verificationPluginMinVersion) {
      return 'signature requires a notation verification plugin, which is not supported';
    }
    if (!KNOWN_HEADERS.has(name)) return `critical header ${name} is not understood`;
    if (!env.protectedNames.includes(name)) return `critical header ${name} is missing`;
  }
  const mustBeCritical = [HEADER.signingScheme, HEADER.expiry, HEADER.authenticSigningTime].filter((h) => env.protectedNames.includes(h));
  const notCrit = mustBeCritical.find((h) => !env.crit.includes(h));
  if (notCrit) return `header ${notCrit} must be marked critical`;
  if (env.contentType !== MediaType.NotaryPayload) return `payload content type ${String(env.contentType)} is not ${MediaType.NotaryPayload}`;
  if (!SCHEMES.includes(String(env.signingScheme))) return `signing scheme ${String(env.signingScheme)} is not supported`;
  if (env.signingScheme === 'notary.x509' && !env.signingTime) return 'signature has no signing time';
  if (env.signingScheme === 'notary.x509.signingAuthority' && !env.authenticSigningTime) return 'signature has no authentic signing time';
  return undefined;
}

function targetProblem(payload: Buffer, subject: Descriptor): string | undefined {
  let target: { mediaType?: unknown; digest?: unknown; size?: unknown } | undefined;
  try {
    target = (JSON.parse(payload.toString('utf8')) as { targetArtifact?: typeof target }).targetArtifact;
  } catch {
    return 'payload is not JSON';
  }
  if (!target) return 'payload has no targetArtifact';
  if (target.digest !== subject.digest) return `payload names ${typeof target.digest === 'string' ? shortDigest(target.digest) : 'no digest'}, not the artifact`;
  if (target.size !== subject.size) return `payload names size ${String(target.size)}, the artifact has ${subject.size}`;
  if (target.mediaType !== subject.mediaType) return `payload names media type ${String(target.mediaType)}, the artifact is ${subject.mediaType}`;
  return undefined;
}

function authenticityProblem(chain: ParsedCert[], ctx: NotationContext, scheme: string): string | undefined {
  const chainProblem = codeSigningChainProblem(chain);
  if (chainProblem) return chainProblem;
  const wantType = scheme === 'notary.x509.signingAuthority' ? 'signingAuthority' : 'ca';
  const stores = ctx.policy.trustStores.filter((s) => s.type === wantType);
  const trusted = stores.flatMap((s) => storeCertificates(ctx.store, s.type, s.name));
  if (trusted.length === 0) return `no ${wantType} certificates in trust stores ${ctx.policy.trustStores.map((s) => `${s.type}:${s.name}`).join(', ')}`;
  if (!chain.some((c) => trusted.some((t) => t.equals(c.x509.raw)))) return 'certificate chain does not include a certificate of the trust store';
  const ids = ctx.policy.trustedIdentities;
  if (ids !== '*') {
    const rdns = subjectRdns(chain[0]!);
    // With a repeated attribute (O=Evil, O=Tests) a map would keep one value and match a policy it should not.
    if (!rdns) return `signing certificate subject ${subjectString(chain[0]!)} repeats an attribute, so it cannot match a trusted identity`;
    const match = ids.some((id) => [...id].every(([k, v]) => rdns.get(k) === v));
    if (!match) return `signing certificate subject ${subjectString(chain[0]!)} is not a trusted identity`;
  }
  return undefined;
}

export function verifyNotationSignature(source: string, envelopeType: string, blob: Buffer, ctx: NotationContext): SignatureResult {
  const kind: SignatureResult['kind'] = envelopeType === MediaType.Cose ? 'notation-cose' : 'notation-jws';
  const fail = (reason: string, signer?: string): SignatureResult =>
    signer === undefined ? { kind, source, verified: false, reason } : { kind, source, verified: false, reason, signer };
  let env: Envelope;
  let chain: ParsedCert[];
  try {
    env = parseEnvelope(envelopeType, blob);
    chain = env.certs.map(parseCert);
  } catch (err) {
    return fail(`signature envelope is malformed: ${(err as Error).message}`);
  }
  const signer = subjectString(chain[0]!);
  const integrity = headerProblem(env) ?? envelopeSignatureProblem(env, chain[0]!.x509.publicKey) ?? targetProblem(env.payload, ctx.subject);
  if (integrity) return fail(integrity, signer);

  const scheme = String(env.signingScheme);
  const signingTime = (scheme === 'notary.x509.signingAuthority' ? env.authenticSigningTime : env.signingTime)!;
  const problems: [Check, string | undefined][] = [
    ['authenticity', authenticityProblem(chain, ctx, scheme)],
    [
      'authenticTimestamp',
      validityProblem(chain, signingTime, 'signing time') ??
        // Without a verified timestamp countersignature the claimed signing time is not authentic: check now too.
        (scheme === 'notary.x509' ? validityProblem(chain, ctx.now, 'verification time') : undefined),
    ],
    ['expiry', env.expiry && env.expiry < ctx.now ? `signature expired at ${env.expiry.toISOString()}` : undefined],
    [
      'revocation',
      chain.some((c) => hasRevocationEndpoints(c.exts))
        ? 'revocation status not checked (offline; the chain names OCSP/CRL endpoints): set override revocation to log or skip to accept'
        : undefined,
    ],
  ];
  const logged: string[] = [];
  for (const [check, problem] of problems) {
    if (!problem) continue;
    const action = ctx.policy.actions[check];
    if (action === 'enforce') return fail(problem, signer);
    if (action === 'log') logged.push(`${check}: ${problem}`);
  }
  const note = logged.length > 0 ? `; not enforced: ${logged.join('; ')}` : '';
  return { kind, source, signer, verified: true, reason: `signed by ${signer}, trust policy '${ctx.policy.name}' (${ctx.policy.level})${note}` };
}
