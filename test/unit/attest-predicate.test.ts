import { describe, expect, it } from 'vitest';
import { PREDICATE_TYPES, predicateFromBytes, predicateTypeOf } from '../../src/signing/attest/predicate.js';
import { GITHUB_WORKFLOW_BUILD_TYPE, slsaProvenanceFromCi } from '../../src/signing/attest/slsa-provenance.js';

describe('attestation types and predicates, as cosign takes them', () => {
  it("maps cosign's --type names to predicate type URIs and takes a URI as it is", () => {
    expect(predicateTypeOf('slsaprovenance')).toBe('https://slsa.dev/provenance/v0.2');
    expect(predicateTypeOf('slsaprovenance1')).toBe('https://slsa.dev/provenance/v1');
    expect(predicateTypeOf('spdx')).toBe('https://spdx.dev/Document');
    expect(predicateTypeOf('spdxjson')).toBe('https://spdx.dev/Document');
    expect(predicateTypeOf('cyclonedx')).toBe('https://cyclonedx.org/bom');
    expect(predicateTypeOf('vuln')).toBe('https://cosign.sigstore.dev/attestation/vuln/v1');
    expect(predicateTypeOf('custom')).toBe('https://cosign.sigstore.dev/attestation/v1');
    expect(predicateTypeOf('https://example.com/my-predicate/v1')).toBe('https://example.com/my-predicate/v1');
    expect(() => predicateTypeOf('sbom')).toThrow(/unknown attestation type 'sbom'/);
    expect(Object.keys(PREDICATE_TYPES)).toContain('openvex');
  });

  it('custom wraps any text as cosign does; spdx keeps tag-value text; other types must be JSON', () => {
    const now = new Date('2026-03-04T05:06:07.890Z');
    expect(predicateFromBytes('custom', Buffer.from('{"foo": "bar"}\n'), 'p', now)).toEqual({ Data: '{"foo": "bar"}\n', Timestamp: '2026-03-04T05:06:07Z' });
    expect(predicateFromBytes('spdx', Buffer.from('SPDXVersion: SPDX-2.3\n'), 'p')).toBe('SPDXVersion: SPDX-2.3\n');
    expect(predicateFromBytes('cyclonedx', Buffer.from('{"bomFormat":"CycloneDX"}'), 'p')).toEqual({ bomFormat: 'CycloneDX' });
    expect(() => predicateFromBytes('cyclonedx', Buffer.from('<bom/>'), 'bom.xml')).toThrow('bom.xml is not JSON; a cyclonedx predicate must be a JSON document');
  });
});

const GITHUB = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/deploy',
  GITHUB_REPOSITORY_ID: '123',
  GITHUB_REPOSITORY_OWNER_ID: '456',
  GITHUB_WORKFLOW_REF: 'acme/deploy/.github/workflows/release.yml@refs/heads/main',
  GITHUB_RUN_ID: '987654',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_SHA: 'a'.repeat(40),
  GITHUB_REF: 'refs/heads/main',
  GITHUB_EVENT_NAME: 'push',
  RUNNER_ENVIRONMENT: 'github-hosted',
};

describe('SLSA v1 provenance from the CI environment', () => {
  it('GitHub Actions: workflow build type, workflow reference, run as invocation, repository@commit as dependency', () => {
    expect(slsaProvenanceFromCi(GITHUB)).toEqual({
      buildDefinition: {
        buildType: GITHUB_WORKFLOW_BUILD_TYPE,
        externalParameters: { workflow: { ref: 'refs/heads/main', repository: 'https://github.com/acme/deploy', path: '.github/workflows/release.yml' } },
        internalParameters: { github: { event_name: 'push', repository_id: '123', repository_owner_id: '456', runner_environment: 'github-hosted' } },
        resolvedDependencies: [{ uri: 'git+https://github.com/acme/deploy@refs/heads/main', digest: { gitCommit: 'a'.repeat(40) } }],
      },
      runDetails: {
        builder: { id: 'https://github.com/actions/runner/github-hosted' },
        metadata: { invocationId: 'https://github.com/acme/deploy/actions/runs/987654/attempts/2' },
      },
    });
  });

  it('GitLab CI: pipeline reference, job as invocation, project@ref and commit as dependency', () => {
    const p = slsaProvenanceFromCi({
      GITLAB_CI: 'true',
      CI_SERVER_URL: 'https://gitlab.example.com',
      CI_PROJECT_URL: 'https://gitlab.example.com/acme/deploy',
      CI_PIPELINE_ID: '77',
      CI_PIPELINE_URL: 'https://gitlab.example.com/acme/deploy/-/pipelines/77',
      CI_JOB_ID: '1234',
      CI_JOB_NAME: 'release',
      CI_JOB_STARTED_AT: '2026-03-04T05:06:07Z',
      CI_RUNNER_ID: '9',
      CI_COMMIT_SHA: 'b'.repeat(40),
      CI_COMMIT_REF_NAME: 'main',
      CI_CONFIG_PATH: 'ci/release.yml',
    });
    expect(p.buildDefinition.externalParameters).toEqual({ pipeline: { source: 'https://gitlab.example.com/acme/deploy', path: 'ci/release.yml', ref: 'refs/heads/main' }, entryPoint: 'release' });
    expect(p.buildDefinition.internalParameters).toEqual({ server: 'https://gitlab.example.com', pipelineId: '77', pipelineUrl: 'https://gitlab.example.com/acme/deploy/-/pipelines/77', jobId: '1234', runnerId: '9' });
    expect(p.buildDefinition.resolvedDependencies).toEqual([{ uri: 'git+https://gitlab.example.com/acme/deploy@refs/heads/main', digest: { gitCommit: 'b'.repeat(40) } }]);
    expect(p.runDetails).toEqual({ builder: { id: 'https://gitlab.example.com/acme/deploy/-/runners/9' }, metadata: { invocationId: 'https://gitlab.example.com/acme/deploy/-/jobs/1234', startedOn: '2026-03-04T05:06:07Z' } });
  });

  it('refuses outside CI, and a CI environment missing what the provenance must say', () => {
    expect(() => slsaProvenanceFromCi({})).toThrow('--provenance describes a CI run, and no GitHub Actions or GitLab CI environment was found');
    expect(() => slsaProvenanceFromCi({ ...GITHUB, GITHUB_SHA: undefined, GITHUB_RUN_ID: '' })).toThrow('cannot describe this GitHub Actions run: GITHUB_RUN_ID, GITHUB_SHA not set');
  });
});
