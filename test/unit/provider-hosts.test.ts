import { describe, expect, it } from 'vitest';
import { assertProviderServes, parseEcrHost, providerServes } from '../../src/registry/providers/hosts.js';

/** The registry hosts each cloud identity may go to: Flux's provider host patterns, no wider. */
describe('providerServes', () => {
  const cases: Array<['aws' | 'gcp' | 'azure', string, boolean]> = [
    ['aws', '123456789012.dkr.ecr.eu-central-1.amazonaws.com', true],
    ['aws', '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', true],
    ['aws', '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', true],
    ['aws', '123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov', true],
    ['aws', '123456789012.dkr.ecr.eu-central-1.amazonaws.com:443', true],
    ['aws', '123456789012.dkr.ecr.eu-central-1.amazonaws.com.evil.example', false],
    ['aws', 'dkr.ecr.eu-central-1.amazonaws.com', false],
    ['aws', 'ghcr.io', false],
    ['gcp', 'gcr.io', true],
    ['gcp', 'eu.gcr.io', true],
    ['gcp', 'GCR.IO', true],
    ['gcp', 'europe-west1-docker.pkg.dev', true],
    ['gcp', 'gcr.io.evil.example', false],
    ['gcp', 'evilgcr.io', false],
    ['gcp', 'europe-python.pkg.dev', false],
    ['gcp', 'pkg.dev', false],
    ['gcp', '127.0.0.1:5000', false],
    ['azure', 'myregistry.azurecr.io', true],
    ['azure', 'myregistry.azurecr.cn', true],
    ['azure', 'myregistry.azurecr.de', true],
    ['azure', 'myregistry.azurecr.us', true],
    ['azure', 'azurecr.io', false],
    ['azure', 'myregistry.azurecr.io.evil.example', false],
    ['azure', 'myregistry-azurecr.io', false],
    ['azure', 'ghcr.io', false],
  ];
  for (const [provider, host, served] of cases) {
    it(`${provider} ${served ? 'serves' : 'does not serve'} ${host}`, () => {
      expect(providerServes(provider, host)).toBe(served);
    });
  }

  it('says which hosts the provider serves, as a usage error', () => {
    try {
      assertProviderServes('gcp', 'ghcr.io', '--src-provider');
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'PROVIDER_REGISTRY_MISMATCH', kind: 'usage' });
      expect((err as Error).message).toBe('--src-provider gcp serves only Google registries (gcr.io, *.gcr.io and Artifact Registry <location>-docker.pkg.dev), not ghcr.io');
    }
  });

  it('reads account, region and partition of an ECR host', () => {
    expect(parseEcrHost('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com')).toEqual({ account: '123456789012', fips: '-fips', region: 'us-gov-west-1', domain: 'amazonaws.com' });
    expect(parseEcrHost('ghcr.io')).toBeUndefined();
  });
});
