import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spki } from './der.js';
import { startFulcio, type FulcioStandIn } from './fulcio.js';
import { startOidcIssuer, type GithubClaims, type OidcIssuer } from './oidc-issuer.js';
import { startRekor, type RekorStandIn } from './rekor.js';

/**
 * The three Sigstore services a keyless signature needs, started together on loopback ports: a GitHub Actions
 * OIDC issuer, Fulcio trusting it, Rekor; and the `trusted_root.json` naming exactly their keys (Fulcio's
 * intermediate and root, its CT log key, Rekor's log key), so verification runs with every check on.
 */
export interface SigstoreStandIns {
  oidc: OidcIssuer;
  fulcio: FulcioStandIn;
  rekor: RekorStandIn;
  trustedRootPath: string;
  /** The environment of a GitHub Actions job that may request ID tokens (`permissions: id-token: write`). */
  githubActionsEnv(): Record<string, string>;
  stop(): Promise<void>;
}

export async function startSigstoreStandIns(dir: string, options: { claims?: Partial<GithubClaims> } = {}): Promise<SigstoreStandIns> {
  const oidc = await startOidcIssuer({ claims: options.claims });
  const fulcio = await startFulcio({ issuers: [oidc.url] });
  const rekor = await startRekor();
  const trustedRootPath = join(dir, 'trusted_root.json');
  writeFileSync(trustedRootPath, JSON.stringify(trustedRoot(fulcio, rekor), null, 2));
  return {
    oidc,
    fulcio,
    rekor,
    trustedRootPath,
    githubActionsEnv: () => ({ GITHUB_ACTIONS: 'true', ...oidc.actionsEnv() }),
    stop: async () => {
      await Promise.all([oidc.stop(), fulcio.stop(), rekor.stop()]);
    },
  };
}

const VALID_FROM = '2020-01-01T00:00:00.000Z';

function transparencyLog(baseUrl: string, key: Buffer): Record<string, unknown> {
  return {
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: key.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: VALID_FROM } },
    logId: { keyId: createHash('sha256').update(key).digest('base64') },
  };
}

/** A Sigstore trusted root (application/vnd.dev.sigstore.trustedroot+json;version=0.1) for the stand-ins. */
function trustedRoot(fulcio: FulcioStandIn, rekor: RekorStandIn): Record<string, unknown> {
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [transparencyLog(rekor.url, spki(rekor.publicKey))],
    certificateAuthorities: [
      {
        subject: { organization: 'oci-artifact-test', commonName: 'fulcio stand-in root' },
        uri: fulcio.url,
        certChain: { certificates: [{ rawBytes: fulcio.intermediate.toString('base64') }, { rawBytes: fulcio.root.toString('base64') }] },
        validFor: { start: VALID_FROM },
      },
    ],
    ctlogs: [transparencyLog(`${fulcio.url}/ct`, spki(fulcio.ctLogKey))],
    timestampAuthorities: [],
  };
}
