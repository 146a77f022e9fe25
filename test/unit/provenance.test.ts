import { describe, expect, it } from 'vitest';
import { provenanceFromCI, stripCredentials } from '../../src/ops/support/provenance.js';

describe('provenance', () => {
  it('never keeps credentials from a remote URL', () => {
    expect(stripCredentials('https://user:s3cret@github.com/org/repo.git')).toBe('https://github.com/org/repo.git');
    expect(stripCredentials('git@github.com:org/repo.git')).toBe('git@github.com:org/repo.git');
  });
  it('reads GitHub Actions and GitLab CI', () => {
    expect(provenanceFromCI({ GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'org/app', GITHUB_SHA: 'abc', GITHUB_REF_NAME: 'main', GITHUB_SERVER_URL: 'https://github.com' }))
      .toEqual({ source: 'https://github.com/org/app', revision: 'main@sha1:abc', origin: 'GitHub Actions' });
    expect(provenanceFromCI({ GITLAB_CI: 'true', CI_PROJECT_URL: 'https://gitlab.com/g/p', CI_COMMIT_SHA: 'def', CI_COMMIT_REF_NAME: 'dev' }))
      .toEqual({ source: 'https://gitlab.com/g/p', revision: 'dev@sha1:def', origin: 'GitLab CI' });
    expect(provenanceFromCI({ BUILDKITE: 'true', BUILDKITE_REPO: 'https://x:y@h/r.git', BUILDKITE_COMMIT: '1', BUILDKITE_BRANCH: 'b' }))
      .toMatchObject({ source: 'https://h/r.git', revision: 'b@sha1:1' });
    expect(provenanceFromCI({ CIRCLECI: 'true', CIRCLE_REPOSITORY_URL: 'git@h:r.git', CIRCLE_SHA1: '2', CIRCLE_TAG: 'v1' }))
      .toMatchObject({ revision: 'v1@sha1:2', origin: 'CircleCI' });
    expect(provenanceFromCI({})).toBeUndefined();
  });
});
