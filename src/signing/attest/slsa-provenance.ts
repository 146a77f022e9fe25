/**
 * A SLSA v1 provenance predicate (https://slsa.dev/provenance/v1) describing the CI run that pushes the artifact,
 * read from the CI system's environment: GitHub Actions (buildType of GitHub's workflow build, as
 * actions/attest-build-provenance writes it) or GitLab CI (the runner's provenance buildType). The source
 * repository and commit are the resolved dependency; the run is the invocation id.
 */
import { usageError } from '../../errors.js';

type Env = Record<string, string | undefined>;

export const GITHUB_WORKFLOW_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';
export const GITLAB_RUNNER_BUILD_TYPE = 'https://gitlab.com/gitlab-org/gitlab-runner/-/blob/main/PROVENANCE.md';

export interface ResourceDescriptor {
  uri: string;
  digest: Record<string, string>;
}

export interface SlsaProvenanceV1 {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string };
    metadata: { invocationId: string; startedOn?: string };
  };
}

/** Only the values that are set, so the predicate never carries empty strings. */
function defined(fields: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
}

function need(env: Env, names: string[], ci: string): void {
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0) throw usageError('PROVENANCE_ENV', `cannot describe this ${ci} run: ${missing.join(', ')} not set`, 'run push --provenance inside the CI job itself');
}

function fromGithub(env: Env): SlsaProvenanceV1 {
  need(env, ['GITHUB_REPOSITORY', 'GITHUB_WORKFLOW_REF', 'GITHUB_RUN_ID', 'GITHUB_SHA', 'GITHUB_REF'], 'GitHub Actions');
  const server = env.GITHUB_SERVER_URL || 'https://github.com';
  const repository = `${server}/${env.GITHUB_REPOSITORY}`;
  // GITHUB_WORKFLOW_REF is `owner/repo/.github/workflows/release.yml@refs/heads/main`.
  const workflowRef = env.GITHUB_WORKFLOW_REF!;
  const at = workflowRef.lastIndexOf('@');
  const workflowPath = workflowRef.slice(env.GITHUB_REPOSITORY!.length + 1, at < 0 ? undefined : at);
  const attempt = env.GITHUB_RUN_ATTEMPT || '1';
  return {
    buildDefinition: {
      buildType: GITHUB_WORKFLOW_BUILD_TYPE,
      externalParameters: { workflow: { ref: env.GITHUB_REF, repository, path: workflowPath } },
      internalParameters: {
        github: defined({
          event_name: env.GITHUB_EVENT_NAME,
          repository_id: env.GITHUB_REPOSITORY_ID,
          repository_owner_id: env.GITHUB_REPOSITORY_OWNER_ID,
          runner_environment: env.RUNNER_ENVIRONMENT,
        }),
      },
      resolvedDependencies: [{ uri: `git+${repository}@${env.GITHUB_REF}`, digest: { gitCommit: env.GITHUB_SHA! } }],
    },
    runDetails: {
      // GitHub's workflow buildType names the runner kind as builder; the workflow is an external parameter.
      builder: { id: `${server}/actions/runner/${env.RUNNER_ENVIRONMENT || 'github-hosted'}` },
      metadata: { invocationId: `${repository}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${attempt}` },
    },
  };
}

function fromGitlab(env: Env): SlsaProvenanceV1 {
  need(env, ['CI_PROJECT_URL', 'CI_PIPELINE_ID', 'CI_JOB_ID', 'CI_COMMIT_SHA'], 'GitLab CI');
  const project = env.CI_PROJECT_URL!;
  const ref = env.CI_COMMIT_TAG || env.CI_COMMIT_REF_NAME;
  const refName = ref ? (env.CI_COMMIT_TAG ? `refs/tags/${ref}` : `refs/heads/${ref}`) : undefined;
  const startedOn = env.CI_JOB_STARTED_AT;
  return {
    buildDefinition: {
      buildType: GITLAB_RUNNER_BUILD_TYPE,
      externalParameters: {
        pipeline: defined({ source: project, path: env.CI_CONFIG_PATH || '.gitlab-ci.yml', ref: refName }),
        ...defined({ entryPoint: env.CI_JOB_NAME }),
      },
      internalParameters: defined({
        server: env.CI_SERVER_URL,
        pipelineId: env.CI_PIPELINE_ID,
        pipelineUrl: env.CI_PIPELINE_URL,
        jobId: env.CI_JOB_ID,
        runnerId: env.CI_RUNNER_ID,
      }),
      resolvedDependencies: [{ uri: `git+${project}${refName ? `@${refName}` : ''}`, digest: { gitCommit: env.CI_COMMIT_SHA! } }],
    },
    runDetails: {
      builder: { id: env.CI_RUNNER_ID ? `${project}/-/runners/${env.CI_RUNNER_ID}` : `${env.CI_SERVER_URL || project}/gitlab-runner` },
      metadata: { invocationId: `${project}/-/jobs/${env.CI_JOB_ID}`, ...(startedOn ? { startedOn } : {}) },
    },
  };
}

/** The provenance of the current CI run; a usage error outside GitHub Actions and GitLab CI. */
export function slsaProvenanceFromCi(env: Env): SlsaProvenanceV1 {
  if (env.GITHUB_ACTIONS === 'true') return fromGithub(env);
  if (env.GITLAB_CI) return fromGitlab(env);
  throw usageError('PROVENANCE_ENV', '--provenance describes a CI run, and no GitHub Actions or GitLab CI environment was found',
    'run it in the CI job, or attest a provenance you wrote with: attest REF --type slsaprovenance1 --predicate FILE');
}
