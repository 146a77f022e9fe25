import { existsSync } from 'node:fs';

/**
 * Runs once before the suite. Integration tests start the real CNCF Distribution registry in several
 * configurations (plain, htpasswd, token, TLS); fail early and clearly when it is missing instead of letting every
 * test time out. OCI_ARTIFACT_TEST_REGISTRY only redirects the plain-registry tests, so the binary is still needed.
 */
export default function setup(): void {
  const binary = process.env.OCI_ARTIFACT_REGISTRY_BIN ?? '/usr/bin/docker-registry';
  if (!existsSync(binary)) {
    throw new Error(
      `the test suite needs the CNCF Distribution registry at ${binary}: install it with ` +
        "'apt-get install -y docker-registry skopeo apache2-utils', or set OCI_ARTIFACT_REGISTRY_BIN to its path",
    );
  }
}
