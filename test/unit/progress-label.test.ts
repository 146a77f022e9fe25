import { describe, expect, it } from 'vitest';
import { Annotation } from '../../src/oci/mediatypes.js';
import { labelOf } from '../../src/oci/progress-label.js';

const hex256 = 'a'.repeat(12) + 'b'.repeat(52);
const hex512 = 'c'.repeat(12) + 'd'.repeat(116);

describe('labelOf (the name a progress line gives a blob, registry and layout alike)', () => {
  it('is the file name when the blob has a title', () => {
    expect(labelOf({ mediaType: 'x', digest: `sha256:${hex256}`, size: 1, annotations: { [Annotation.Title]: 'deploy.tar.gz' } })).toBe('deploy.tar.gz');
  });

  it('is the first 12 hex characters of the digest otherwise, whatever the algorithm', () => {
    expect(labelOf({ mediaType: 'x', digest: `sha256:${hex256}`, size: 1 })).toBe('aaaaaaaaaaaa');
    expect(labelOf({ mediaType: 'x', digest: `sha512:${hex512}`, size: 1, annotations: {} })).toBe('cccccccccccc');
  });
});
