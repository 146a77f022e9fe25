import { existsSync } from 'node:fs';

/**
 * Runs once before the suite. Integration tests start the real CNCF Distribution registry; fail early and clearly
 * when it is missing instead of letting every test time out.
 */
export default function setup(): void {
  if (process.env.OCI_ARTIFACT_TEST_REGISTRY) return;
  const binary = process.env.OCI_ARTIFACT_REGISTRY_BIN ?? '/usr/bin/docker-registry';
  if (!existsSync(binary)) {
    throw new Error(
      `the test suite needs the CNCF Distribution registry at ${binary}: install it with ` +
        "'apt-get install -y docker-registry skopeo apache2-utils', set OCI_ARTIFACT_REGISTRY_BIN to its path, " +
        'or set OCI_ARTIFACT_TEST_REGISTRY=host:port to use a running plain registry',
    );
  }
}
