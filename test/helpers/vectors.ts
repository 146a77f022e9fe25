import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared signature test vectors live in `shared/` beside the checkout (as on every developer machine and in
 * CI); OCI_ARTIFACT_SHARED_DIR points elsewhere when needed.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SHARED_DIR = process.env.OCI_ARTIFACT_SHARED_DIR ?? join(ROOT, '..', 'shared');
export const SIGNATURE_VECTORS = join(SHARED_DIR, 'fixtures', 'signatures');

if (!existsSync(SIGNATURE_VECTORS)) {
  throw new Error(`signature test vectors not found at ${SIGNATURE_VECTORS}: put the project's shared/ folder beside the checkout or set OCI_ARTIFACT_SHARED_DIR`);
}
