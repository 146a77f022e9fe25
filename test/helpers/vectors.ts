import { join } from 'node:path';
import { ROOT } from './cli.js';

/** Real cosign / notation signatures kept in the repository (see fixtures/signatures/README.md). */
export const SIGNATURE_VECTORS = join(ROOT, 'fixtures', 'signatures');
