import { describe, expect, it } from 'vitest';
import { covers, mergeScopes, repositoryScope } from '../../src/registry/scopes.js';

describe('token scopes', () => {
  it('merge the actions of one resource and keep resources apart', () => {
    expect(mergeScopes(['repository:a:pull,push', 'repository:a:pull', 'repository:b:pull'])).toEqual(['repository:a:pull,push', 'repository:b:pull']);
    expect(mergeScopes(['repository:a:pull', 'repository:a:push'])).toEqual(['repository:a:pull,push']);
    expect(mergeScopes(['registry:catalog:*'])).toEqual(['registry:catalog:*']);
  });

  it('let a pull,push token serve reads, never a pull token serve writes or another repository', () => {
    expect(covers(['repository:a:pull,push'], ['repository:a:pull'])).toBe(true);
    expect(covers(['repository:a:pull'], ['repository:a:pull,push'])).toBe(false);
    expect(covers(['repository:a:pull,push'], ['repository:b:pull'])).toBe(false);
    expect(covers(['repository:a:pull,push', 'repository:b:pull'], ['repository:b:pull', 'repository:a:push'])).toBe(true);
    expect(covers(['repository:a:*'], ['repository:a:pull,push,delete'])).toBe(true);
    expect(covers([], [])).toBe(true);
  });
});

describe('repositoryScope', () => {
  it('names pull or pull,push', () => {
    expect(repositoryScope('org/app')).toBe('repository:org/app:pull');
    expect(repositoryScope('org/app', true)).toBe('repository:org/app:pull,push');
  });
});
