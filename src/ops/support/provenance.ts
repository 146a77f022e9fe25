import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where an artifact came from: `org.opencontainers.image.source` and `.revision`, and who told us. */
export interface Provenance {
  source?: string;
  revision?: string;
  /** 'flags', 'GitHub Actions', 'GitLab CI', 'Buildkite', 'CircleCI' or 'git'. */
  origin?: string;
}

type Env = Record<string, string | undefined>;

/** Drop `user:password@` from a URL so a token in a remote URL never ends up in an annotation or a log. */
export function stripCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

function revisionOf(ref: string | undefined, sha: string | undefined): string | undefined {
  if (!sha) return undefined;
  return `${ref || 'HEAD'}@sha1:${sha}`;
}

/** Source and revision from the CI system's environment, if any is recognised. */
export function provenanceFromCI(env: Env): Provenance | undefined {
  if (env.GITHUB_ACTIONS === 'true' && env.GITHUB_REPOSITORY) {
    const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
    const ref = env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME;
    return { source: `${server}/${env.GITHUB_REPOSITORY}`, revision: revisionOf(ref, env.GITHUB_SHA), origin: 'GitHub Actions' };
  }
  if (env.GITLAB_CI && env.CI_PROJECT_URL) {
    const ref = env.CI_COMMIT_TAG || env.CI_COMMIT_REF_NAME;
    return { source: env.CI_PROJECT_URL, revision: revisionOf(ref, env.CI_COMMIT_SHA), origin: 'GitLab CI' };
  }
  if (env.BUILDKITE && env.BUILDKITE_REPO) {
    const ref = env.BUILDKITE_TAG || env.BUILDKITE_BRANCH;
    return { source: stripCredentials(env.BUILDKITE_REPO), revision: revisionOf(ref, env.BUILDKITE_COMMIT), origin: 'Buildkite' };
  }
  if (env.CIRCLECI && env.CIRCLE_REPOSITORY_URL) {
    const ref = env.CIRCLE_TAG || env.CIRCLE_BRANCH;
    return { source: stripCredentials(env.CIRCLE_REPOSITORY_URL), revision: revisionOf(ref, env.CIRCLE_SHA1), origin: 'CircleCI' };
  }
  return undefined;
}

async function git(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', args, { cwd, timeout: 5000 });
    const out = stdout.trim();
    return out === '' ? undefined : out;
  } catch {
    return undefined;
  }
}

/** Source and revision of the git checkout containing `cwd`: Flux's documented `git config`/`rev-parse` recipe. */
async function provenanceFromGit(cwd: string): Promise<Provenance | undefined> {
  const sha = await git(cwd, ['rev-parse', 'HEAD']);
  if (!sha) return undefined;
  const remote = await git(cwd, ['config', '--get', 'remote.origin.url']);
  const ref = (await git(cwd, ['symbolic-ref', '--short', '-q', 'HEAD'])) ?? (await git(cwd, ['describe', '--tags', '--exact-match', 'HEAD']));
  return { source: remote === undefined ? undefined : stripCredentials(remote), revision: revisionOf(ref, sha), origin: 'git' };
}

/**
 * Fill what the flags left out from the CI environment, then from git. Flags always win; each field is
 * taken whole from one place so source and revision stay consistent.
 */
export async function resolveProvenance(flags: Provenance, cwd: string, env: Env = process.env): Promise<Provenance> {
  if (flags.source && flags.revision) return { ...flags, origin: 'flags' };
  const detected = provenanceFromCI(env) ?? (await provenanceFromGit(cwd));
  return {
    source: flags.source || detected?.source,
    revision: flags.revision || detected?.revision,
    origin: detected?.origin,
  };
}

/**
 * `${GIT_SHA}` and `${GIT_TAG}` of oci-artifact.yaml: the variable when set, else the CI system's commit and tag,
 * else git's (`rev-parse HEAD`, `describe --tags --exact-match`). Undefined when none knows (no tag on HEAD).
 */
export async function gitVariable(name: 'GIT_SHA' | 'GIT_TAG', cwd: string, env: Env = process.env): Promise<string | undefined> {
  if (env[name]) return env[name];
  if (name === 'GIT_SHA') {
    const fromCi = env.GITHUB_ACTIONS === 'true' ? env.GITHUB_SHA : env.GITLAB_CI ? env.CI_COMMIT_SHA : env.BUILDKITE ? env.BUILDKITE_COMMIT : env.CIRCLECI ? env.CIRCLE_SHA1 : undefined;
    return fromCi || (await git(cwd, ['rev-parse', 'HEAD']));
  }
  const fromCi = env.GITHUB_ACTIONS === 'true' ? (env.GITHUB_REF_TYPE === 'tag' ? env.GITHUB_REF_NAME : undefined)
    : env.GITLAB_CI ? env.CI_COMMIT_TAG : env.BUILDKITE ? env.BUILDKITE_TAG : env.CIRCLECI ? env.CIRCLE_TAG : undefined;
  if (fromCi) return fromCi;
  // Under a CI system that names no tag, HEAD carries none for this build; git would only guess from old clones.
  if (provenanceFromCI(env) !== undefined) return undefined;
  return git(cwd, ['describe', '--tags', '--exact-match', 'HEAD']);
}
