import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFromJSON } from '@sigstore/bundle';
import { openRepository } from '../../src/ops/support/open-repository.js';
import type { ImageManifest, Repository } from '../../src/oci/types.js';
import { parseReference } from '../../src/ref/reference.js';
import { attestArtifact } from '../../src/signing/attest/attest.js';
import { verifyAttestations } from '../../src/signing/attest/verify.js';
import { pushSmallArtifact, useRegistry, useWorkDir } from '../helpers/fixtures.js';
import { startSigstoreStandIns, type SigstoreStandIns } from '../helpers/sigstore-stand-ins.js';

/** Keyless attestations through the Sigstore stand-ins (keyless-sign.test.ts has the signatures), on the real registry. */
const SLSA1 = 'https://slsa.dev/provenance/v1';
const registry = useRegistry();
const work = useWorkDir('attest-keyless-');
let sigstore: SigstoreStandIns;
let repo: Repository;

beforeAll(async () => {
  sigstore = await startSigstoreStandIns(work.path);
  repo = await openRepository(parseReference(`oci://${registry.host}/attest/keyless`), { insecure: true });
});
afterAll(async () => {
  await repo?.close();
  await sigstore?.stop();
});

const policy = (identity: string) => ({ provider: 'cosign' as const, certificateIdentity: identity, certificateOidcIssuer: sigstore.oidc.url, trustedRootPath: sigstore.trustedRootPath });

describe('keyless attestations', () => {
  it('attest keyless + verify --attestation: verifies for the workflow identity with its predicate, fails for another', async () => {
    const subject = await pushSmallArtifact(repo);
    const predicate = { buildDefinition: { buildType: 'https://example.com/b/v1' }, runDetails: { builder: { id: 'https://example.com' } } };
    const written = await attestArtifact(repo, subject, {
      predicateType: SLSA1,
      predicate,
      keyless: { identityToken: sigstore.oidc.issueToken(), fulcioUrl: sigstore.fulcio.url, rekorUrl: sigstore.rekor.url, trustedRootPath: sigstore.trustedRootPath },
    });
    const identity = sigstore.oidc.workflowIdentity();
    expect(written).toMatchObject({ kind: 'attestation', predicateType: SLSA1, signer: { identity, issuer: sigstore.oidc.url } });

    const ok = await verifyAttestations(repo, subject, policy(identity), SLSA1, { offline: true });
    expect(ok).toMatchObject({ verified: true, reason: '1 of 1 attestation verified' });
    expect(ok.attestations[0]).toMatchObject({ source: written.location, signer: identity, predicate });
    const other = await verifyAttestations(repo, subject, policy(`${identity}x`), SLSA1, { offline: true });
    expect(other.verified).toBe(false);
    expect(other.attestations[0]!.predicate).toBeUndefined();

    // The bundle carries the certificate and a dsse Rekor entry, as cosign's keyless attestations do.
    const manifest = JSON.parse((await repo.getManifest(written.location)).bytes.toString()) as ImageManifest;
    expect(manifest.annotations?.['dev.sigstore.bundle.predicateType']).toBe(SLSA1);
    const bundle = bundleFromJSON(JSON.parse((await repo.fetchBlob(manifest.layers[0]!, {})).toString()));
    expect(bundle.verificationMaterial.content.$case).toBe('certificate');
    expect(bundle.verificationMaterial.tlogEntries.map((e) => e.kindVersion?.kind)).toEqual(['dsse']);
  });
});
