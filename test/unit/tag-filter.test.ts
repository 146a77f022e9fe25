import { describe, expect, it } from 'vitest';
import { isOciError } from '../../src/errors.js';
import { isToolTag, selectTags, tagVersion } from '../../src/ops/support/tag-filter.js';

const HEX = 'ab'.repeat(32);

describe('selectTags', () => {
  const tags = ['latest', 'v1.0.0', '1.2.0', 'v1.10.0', '2.0.0', '1.5.0-rc.1', 'main', `sha256-${HEX}.sig`, `sha256-${HEX}.att`, `sha256-${HEX}`, 'x.sbom'];

  it('hides cosign and referrers fallback tags and sorts descending like Flux', () => {
    expect(selectTags(tags)).toEqual(['v1.10.0', 'v1.0.0', 'main', 'latest', '2.0.0', '1.5.0-rc.1', '1.2.0']);
    expect(selectTags(tags, { all: true })).toHaveLength(tags.length);
  });

  it('keeps versions in a semver range, newest first, leaving out tags that are not versions', () => {
    expect(selectTags(tags, { semver: '>=1.0.0 <2.0.0' })).toEqual(['v1.10.0', '1.2.0', 'v1.0.0']);
    expect(selectTags(tags, { semver: '>=1.0.0, <2.0.0' })).toEqual(['v1.10.0', '1.2.0', 'v1.0.0']);
    expect(selectTags(tags, { semver: '>=1.5.0-rc.0 <1.6.0' })).toEqual(['1.5.0-rc.1']);
  });

  it('applies the regex unanchored, before the semver range', () => {
    expect(selectTags(tags, { regex: '^v' })).toEqual(['v1.10.0', 'v1.0.0']);
    expect(selectTags(tags, { regex: 'a', all: false })).toEqual(['main', 'latest']);
    expect(selectTags(tags, { regex: '^v', semver: '<1.5.0' })).toEqual(['v1.0.0']);
  });

  it('refuses an invalid semver range or regex with a usage error naming it', () => {
    for (const [options, code, text] of [
      [{ semver: '>=abc' }, 'SEMVER_RANGE_INVALID', "invalid semver range '>=abc'"],
      [{ regex: '(' }, 'REGEX_INVALID', "invalid regular expression '('"],
    ] as const) {
      let caught: unknown;
      try {
        selectTags(tags, options);
      } catch (err) {
        caught = err;
      }
      expect(isOciError(caught) && caught.kind === 'usage' && caught.code === code).toBe(true);
      expect((caught as Error).message).toContain(text);
    }
  });
});

describe('tagVersion and isToolTag', () => {
  it('reads tags as Flux does: optional v, missing minor/patch filled in', () => {
    expect(tagVersion('v1')?.version).toBe('1.0.0');
    expect(tagVersion('1.2')?.version).toBe('1.2.0');
    expect(tagVersion('1.2.3-rc.1+b5')?.version).toBe('1.2.3-rc.1');
    expect(tagVersion('latest')).toBeUndefined();
    expect(tagVersion('1.2.3.4')).toBeUndefined();
  });

  it('recognises tool tags only by their exact shapes', () => {
    expect(isToolTag(`sha256-${HEX}`)).toBe(true);
    expect(isToolTag('release.sig')).toBe(true);
    expect(isToolTag('sha256-abc')).toBe(false);
    expect(isToolTag('signature')).toBe(false);
  });
});
