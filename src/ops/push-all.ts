import { dirname, resolve } from 'node:path';
import { isOciError, usageError } from '../errors.js';
import { formatReference, withVersion } from '../ref/reference.js';
import { push } from './push.js';
import type { OpContext } from './support/context.js';
import { CONFIG_FILE_NAME, loadConfigFile, type ConfigFile, type ConfiguredArtifact } from './support/config-file.js';
import { createLimiter } from './support/limit.js';
import { gitVariable, resolveProvenance } from './support/provenance.js';

/**
 * `push --all`: every artifact of oci-artifact.yaml in one run. The pushes run concurrently (at most `concurrency`
 * at once) in this one process, so they share its connections (one keep-alive pool per registry host) and its
 * token cache (a token for a repository is fetched once). By default each skips its push when the content behind
 * its tag is the same (push's ifChanged). One artifact's failure does not stop the others: every outcome is
 * reported, and the caller fails the run when any failed.
 */
export interface PushAllOptions {
  /** The loaded file (readPushAllFile). */
  file: ConfigFile;
  /** Default true. */
  ifChanged?: boolean;
  /** Artifacts pushed at once (default 4). */
  concurrency?: number;
  source?: string;
  revision?: string;
  reproducible?: boolean;
  compressionLevel?: number;
  resolveSymlinks?: boolean;
  /** Passwords of encrypted signing keys, by the key's absolute path (undefined: not encrypted). */
  keyPasswords?: ReadonlyMap<string, string | undefined>;
}

export interface ArtifactOutcome {
  name: string;
  /** The configured reference (with its tag). */
  reference: string;
  status: 'pushed' | 'unchanged' | 'failed';
  digest?: string;
  /** `oci://host/repo@sha256:…`, once pushed or found unchanged. */
  url?: string;
  /** Extra tags written (none when unchanged). */
  tags: string[];
  /** The revision the content behind the tag came from (the new one when pushed). */
  revision?: string;
  /** Blobs uploaded (not found in the registry already). */
  uploaded: number;
  signed?: string;
  /** The content layer's media type (Flux's, or the standard OCI one a refusing registry got), once pushed or found unchanged. */
  layerMediaType?: string;
  error?: unknown;
}

export interface PushAllResult {
  config: string;
  artifacts: ArtifactOutcome[];
  failed: ArtifactOutcome[];
}

const DEFAULT_CONCURRENCY = 4;

/** Read oci-artifact.yaml (default: in the working directory), with its variables from the environment, CI and git. */
export async function readPushAllFile(path: string | undefined, ctx: Pick<OpContext, 'cwd' | 'env'>): Promise<ConfigFile> {
  const cwd = ctx.cwd ?? process.cwd();
  const env = ctx.env ?? process.env;
  const baseDir = dirname(resolve(cwd, path ?? CONFIG_FILE_NAME));
  const git = { GIT_SHA: await gitVariable('GIT_SHA', baseDir, env), GIT_TAG: await gitVariable('GIT_TAG', baseDir, env) };
  return loadConfigFile(path ?? CONFIG_FILE_NAME, cwd, (name) => (name === 'GIT_SHA' || name === 'GIT_TAG' ? git[name] : env[name]));
}

export async function pushAll(options: PushAllOptions, ctx: OpContext): Promise<PushAllResult> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw usageError('FLAG_INVALID', `--concurrency must be a positive whole number, got ${concurrency}`);
  const baseDir = options.file.baseDir;
  // Once for all artifacts: the same repository and commit.
  const provenance = await resolveProvenance({ source: options.source, revision: options.revision }, baseDir, ctx.env ?? process.env);
  if (!provenance.source || !provenance.revision) {
    throw usageError('PROVENANCE_MISSING',
      `--${provenance.source ? 'revision' : 'source'} is required and could not be taken from git or the CI environment`,
      "pass --source <url> and --revision '<branch>@sha1:<commit>'");
  }
  if (provenance.origin !== 'flags') ctx.onNotice?.(`source ${provenance.source} and revision ${provenance.revision} taken from ${provenance.origin}`);

  const limit = createLimiter(concurrency);
  // Per-artifact steps would interleave; the run reports its own progress.
  const quiet: OpContext = { ...ctx, cwd: baseDir, onStep: undefined, onProgress: undefined, onNotice: undefined };
  let done = 0;
  const total = options.file.artifacts.length;
  ctx.onStep?.(`pushing ${total} artifacts`);
  const artifacts = await Promise.all(options.file.artifacts.map((artifact) => limit(async () => {
    const outcome = await pushOne(artifact, options, { source: provenance.source!, revision: provenance.revision! }, quiet);
    ctx.onStep?.(`pushing ${total} artifacts (${++done} done)`);
    return outcome;
  })));
  return { config: options.file.path, artifacts, failed: artifacts.filter((a) => a.status === 'failed') };
}

async function pushOne(
  artifact: ConfiguredArtifact,
  options: PushAllOptions,
  provenance: { source: string; revision: string },
  ctx: OpContext,
): Promise<ArtifactOutcome> {
  const outcome: ArtifactOutcome = { name: artifact.name, reference: formatReference(artifact.ref), status: 'failed', tags: [], uploaded: 0 };
  try {
    const result = await push({
      ref: artifact.ref,
      path: artifact.sources,
      source: provenance.source,
      revision: provenance.revision,
      annotations: artifact.annotations,
      addIgnorePaths: artifact.ignore,
      reproducible: options.reproducible,
      compressionLevel: options.compressionLevel,
      resolveSymlinks: options.resolveSymlinks,
      ifChanged: options.ifChanged ?? true,
      extraTags: artifact.tags,
    }, ctx);
    Object.assign(outcome, {
      status: result.pushed ? 'pushed' : 'unchanged',
      digest: result.digest,
      url: result.url,
      revision: result.revision,
      tags: result.pushed ? artifact.tags : [],
      uploaded: Object.values(result.blobs).filter((b) => b === 'uploaded').length,
      layerMediaType: result.layer.mediaType,
    });
    if (artifact.sign !== undefined && result.pushed) {
      const { sign } = await import('./sign.js');
      const signed = await sign({
        ref: withVersion(artifact.ref, { digest: result.digest }),
        keyPath: artifact.sign.key,
        password: options.keyPasswords?.get(artifact.sign.key),
        subject: result.manifest,
      }, ctx);
      outcome.signed = signed.kind;
    }
  } catch (err) {
    if (ctx.signal.aborted) throw err; // an interrupt ends the run, not one artifact
    outcome.status = 'failed';
    outcome.error = isOciError(err) || err instanceof Error ? err : new Error(String(err));
  }
  return outcome;
}
