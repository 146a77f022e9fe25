import { OciError } from '../../errors.js';
import type { ProviderName } from './types.js';

/**
 * Which registries each cloud provider's identity may be sent to: the registry services of that cloud only, with
 * the host patterns Flux's providers check (fluxcd/pkg auth `ParseArtifactRepository`). Anything else is a usage
 * error before any request, so a cloud token never reaches a registry the cloud does not run.
 */
export type CloudProvider = Exclude<ProviderName, 'generic'>;

/**
 * Amazon ECR in every AWS partition: `<account>.dkr.ecr[-fips].<region>.<partition domain>`. Groups: account, `-fips`,
 * region, partition domain (the ECR API lives at `api.ecr[-fips].<region>.<domain>`).
 */
const ECR_HOST = /^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.(amazonaws\.com(?:\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;
/** Container Registry (`gcr.io`, `eu.gcr.io`, …) and Artifact Registry (`<location>-docker.pkg.dev`). */
const GCP_HOST = /^(?:(?:[a-z0-9-]+\.)*gcr\.io|[a-z0-9-]+-docker\.pkg\.dev)$/;
/** Azure Container Registry in the public, China, Germany and US Government clouds. */
const ACR_HOST = /^(?:[a-z0-9-]+\.)+azurecr\.(?:io|cn|de|us)$/;

const SERVED: Record<CloudProvider, { pattern: RegExp; hosts: string }> = {
  aws: { pattern: ECR_HOST, hosts: 'Amazon ECR registries (<account>.dkr.ecr.<region>.amazonaws.com, also .com.cn and the other AWS partitions)' },
  gcp: { pattern: GCP_HOST, hosts: 'Google registries (gcr.io, *.gcr.io and Artifact Registry <location>-docker.pkg.dev)' },
  azure: { pattern: ACR_HOST, hosts: 'Azure Container Registry (*.azurecr.io, *.azurecr.cn, *.azurecr.de, *.azurecr.us)' },
};

/** The parts of an ECR registry host, or undefined for any other host. */
export function parseEcrHost(registry: string): { account: string; fips: string; region: string; domain: string } | undefined {
  const m = ECR_HOST.exec(hostName(registry));
  return m === null ? undefined : { account: m[1]!, fips: m[2] ?? '', region: m[3]!, domain: m[4]! };
}

/** The host name of `registry` (`host[:port]`), lower-cased, for matching. */
function hostName(registry: string): string {
  return registry.toLowerCase().replace(/:\d+$/, '');
}

export function providerServes(provider: CloudProvider, registry: string): boolean {
  return SERVED[provider].pattern.test(hostName(registry));
}

/** Throws the usage error when `provider`'s identity must not go to `registry`; `hint` replaces the generic advice. */
export function assertProviderServes(provider: CloudProvider, registry: string, flag = '--provider', hint?: string): void {
  if (providerServes(provider, registry)) return;
  throw new OciError('PROVIDER_REGISTRY_MISMATCH', `${flag} ${provider} serves only ${SERVED[provider].hosts}, not ${registry}`, {
    kind: 'usage',
    hint: hint ?? `use ${flag} ${provider} only with those registries; for ${registry} pass --creds or run 'oci-artifact login ${registry}'`,
  });
}
