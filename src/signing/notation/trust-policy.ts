/**
 * notation trustpolicy.json (version 1.0): which policy applies to a repository, what level it enforces, which
 * trust stores and identities it trusts. Malformed policies are usage errors, found before any network call.
 */
import { readFileSync } from 'node:fs';
import { OciError, usageError } from '../../errors.js';
import { parseDn } from './x509.js';

export type Check = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type Action = 'enforce' | 'log' | 'skip';
export type Level = 'strict' | 'permissive' | 'audit' | 'skip';

export interface TrustPolicy {
  name: string;
  registryScopes: string[];
  level: Level;
  actions: Record<Check, Action>;
  trustStores: { type: 'ca' | 'signingAuthority' | 'tsa'; name: string }[];
  /** `*`, or RDN maps parsed from `x509.subject: ...`. */
  trustedIdentities: '*' | Map<string, string>[];
}

const LEVELS: Record<Level, Record<Check, Action>> = {
  strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
  permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  skip: { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' },
};

const OVERRIDABLE: Check[] = ['authenticity', 'authenticTimestamp', 'expiry', 'revocation'];

function invalid(path: string, what: string): OciError {
  return usageError('TRUST_POLICY_INVALID', `trust policy ${path}: ${what}`, 'see https://notaryproject.dev/docs/user-guides/how-to/manage-trust-policy/');
}

export function loadTrustPolicies(path: string): TrustPolicy[] {
  let doc: any;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new OciError('TRUST_POLICY_INVALID', `cannot read trust policy ${path}: ${(err as Error).message}`, { kind: 'usage', cause: err });
  }
  if (doc?.version !== '1.0') throw invalid(path, `version ${JSON.stringify(doc?.version)} is not supported (expected "1.0")`);
  if (!Array.isArray(doc.trustPolicies) || doc.trustPolicies.length === 0) throw invalid(path, 'no trustPolicies');
  const seenNames = new Set<string>();
  const seenScopes = new Set<string>();
  return doc.trustPolicies.map((p: any, i: number) => {
    const name = typeof p?.name === 'string' && p.name ? p.name : undefined;
    if (!name) throw invalid(path, `policy ${i} has no name`);
    if (seenNames.has(name)) throw invalid(path, `policy name '${name}' is used twice`);
    seenNames.add(name);
    const scopes: unknown = p.registryScopes;
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string' && s)) {
      throw invalid(path, `policy '${name}' needs registryScopes`);
    }
    if (scopes.includes('*') && scopes.length > 1) throw invalid(path, `policy '${name}': the '*' scope must be alone`);
    for (const s of scopes as string[]) {
      if (seenScopes.has(s)) throw invalid(path, `registry scope '${s}' appears in two policies`);
      seenScopes.add(s);
    }
    const level = p.signatureVerification?.level as Level;
    if (!(level in LEVELS)) throw invalid(path, `policy '${name}' has level ${JSON.stringify(level)} (expected strict, permissive, audit or skip)`);
    const actions = { ...LEVELS[level] };
    for (const [check, action] of Object.entries(p.signatureVerification?.override ?? {})) {
      if (level === 'skip') throw invalid(path, `policy '${name}': level skip cannot have overrides`);
      if (!OVERRIDABLE.includes(check as Check)) throw invalid(path, `policy '${name}': '${check}' cannot be overridden`);
      if (action !== 'enforce' && action !== 'log' && action !== 'skip') throw invalid(path, `policy '${name}': override ${check} must be enforce, log or skip`);
      actions[check as Check] = action;
    }
    const stores = Array.isArray(p.trustStores) ? p.trustStores : [];
    const identities = Array.isArray(p.trustedIdentities) ? p.trustedIdentities : [];
    if (level !== 'skip' && (stores.length === 0 || identities.length === 0)) {
      throw invalid(path, `policy '${name}' needs trustStores and trustedIdentities`);
    }
    return {
      name,
      registryScopes: scopes as string[],
      level,
      actions,
      trustStores: stores.map((s: unknown) => {
        const m = typeof s === 'string' ? /^(ca|signingAuthority|tsa):(.+)$/.exec(s) : null;
        if (!m) throw invalid(path, `policy '${name}': trust store ${JSON.stringify(s)} must be ca:<name>, signingAuthority:<name> or tsa:<name>`);
        return { type: m[1] as 'ca' | 'signingAuthority' | 'tsa', name: m[2]! };
      }),
      trustedIdentities: parseIdentities(path, name, identities),
    } satisfies TrustPolicy;
  });
}

function parseIdentities(path: string, name: string, identities: unknown[]): TrustPolicy['trustedIdentities'] {
  if (identities.includes('*')) {
    if (identities.length > 1) throw invalid(path, `policy '${name}': '*' must be the only trusted identity`);
    return '*';
  }
  return identities.map((id) => {
    const m = typeof id === 'string' ? /^x509\.subject:\s*(.+)$/.exec(id) : null;
    const dn = m ? parseDn(m[1]!) : undefined;
    if (!dn) throw invalid(path, `policy '${name}': trusted identity ${JSON.stringify(id)} must be '*' or 'x509.subject: C=..., O=..., CN=...' with each attribute once`);
    return dn;
  });
}

/** The policy for `scope` (host/repository): an exact registry scope first, then the `*` policy. */
export function selectPolicy(policies: TrustPolicy[], scope: string): TrustPolicy | undefined {
  return policies.find((p) => p.registryScopes.includes(scope)) ?? policies.find((p) => p.registryScopes.includes('*'));
}
