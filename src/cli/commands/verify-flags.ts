import type { VerifyPolicy } from '../../signing/index.js';

/** The verify flags shared by `verify` and `pull --verify`, as a policy for the signing module. */
export function verifyPolicyFromFlags(flags: Record<string, unknown>): VerifyPolicy {
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  return {
    // `pull --verify` names it --verify-provider (its --provider is Flux's registry provider).
    provider: (str('verifyProvider') ?? str('provider') ?? 'cosign') as VerifyPolicy['provider'],
    keys: Array.isArray(flags.key) ? (flags.key as string[]) : undefined,
    certificateIdentity: str('certificateIdentity'),
    certificateIdentityRegexp: str('certificateIdentityRegexp'),
    certificateOidcIssuer: str('certificateOidcIssuer'),
    certificateOidcIssuerRegexp: str('certificateOidcIssuerRegexp'),
    trustedRootPath: str('trustedRoot'),
    rekorPublicKeyPath: str('rekorPublicKey'),
    trustPolicyPath: str('trustPolicy'),
    trustStorePath: str('trustStore'),
  };
}
