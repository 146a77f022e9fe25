import { Code, isOciError, usageError } from '../errors.js';
import { describeInput, type PackInput } from '../artifact/sources.js';
import { compareFiles, summarise, type ChangeSummary, type FileChange } from '../diff/compare.js';
import { diffObjects, isYamlPath, parseYamlObjects, type ObjectChange, type YamlObject } from '../diff/semantic.js';
import { MAX_TEXT_DIFF_BYTES, renderFilePatch, type FilePatch } from '../diff/text.js';
import { openRepository } from './support/open-repository.js';
import type { Repository } from '../oci/types.js';
import { formatReference, type ArtifactReference } from '../ref/reference.js';
import type { OpContext } from './support/context.js';
import { artifactInfo, HELD_CONTENT_BYTES, loadArtifactSide, loadLocalSide, resolveArtifactSide, type DiffSide, type ResolvedSide } from './support/diff-sides.js';

export interface DiffOptions {
  /** The artifact: the "old" side. */
  ref: ArtifactReference;
  /** The "new" side: a local directory or file (what a push would pack), or a second artifact. */
  against: { path: PackInput } | { ref: ArtifactReference };
  ignorePaths?: string[];
  addIgnorePaths?: string[];
  resolveSymlinks?: boolean;
  /** Produce a git-style patch per changed file. */
  unified?: boolean;
  /** Compare YAML files as Kubernetes objects. */
  semantic?: boolean;
  /**
   * List the Kubernetes objects that changed (`semantic.objects`) without comparing YAML files as objects: the
   * exit status and the patches stay file by file. For a review (`-o markdown`), which shows both.
   */
  objectSummary?: boolean;
  /** Uncompressed size cap per artifact layer; 0 for none. */
  maxSize?: number;
  /**
   * A tag (or repository) that does not exist is an artifact with no files, and the diff reports a difference
   * (every file added, or removed), instead of failing: a pull request that adds a new app (flux2#3425).
   */
  missingAsChanged?: boolean;
}

export interface DiffResult {
  /** `info.missing`: with missingAsChanged, that side's tag does not exist. */
  old: DiffSide['info'];
  new: DiffSide['info'];
  /** What the exit status reports: any file change, or with `semantic` any object change or non-YAML file change. */
  differs: boolean;
  summary: ChangeSummary;
  changes: FileChange[];
  semantic?: SemanticResult;
  /** With `unified`: patches of the changed files (YAML files compared semantically excepted), in path order. */
  patches?: Array<{ path: string } & FilePatch>;
}

export interface SemanticResult {
  objects: ObjectChange[];
  /** YAML files compared as objects; the others (invalid YAML, too large) were compared as files. */
  files: string[];
  /** YAML files holding a Kubernetes Secret on either side: a diff that is published leaves their patches out. */
  secretFiles: string[];
}

/** Largest YAML file parsed for a semantic diff; larger ones are compared as files. */
const MAX_SEMANTIC_BYTES = 4 * 1024 * 1024;

/**
 * Compare an artifact with a local tree or another artifact, file by file (content hash and executable bit, never
 * archive bytes), optionally with text patches and a semantic YAML diff. Returns the result; deciding the exit
 * status and printing are the caller's.
 */
export async function diff(options: DiffOptions, ctx: OpContext): Promise<DiffResult> {
  const against = options.against;
  const objects = options.semantic === true || options.objectSummary === true;
  const semanticContent = (path: string, size: number): boolean => objects && isYamlPath(path) && size <= MAX_SEMANTIC_BYTES;
  const patchContent = (_path: string, size: number): boolean => options.unified === true && size <= MAX_TEXT_DIFF_BYTES;
  const artifactSide = (repo: Repository, side: ResolvedSide): Promise<DiffSide> =>
    loadArtifactSide(repo, side, { keepContent: semanticContent, patchContent, maxSize: options.maxSize, signal: ctx.signal });
  const repos: Repository[] = [];
  /** `side`: which of the two references, for its own credentials (ctx.sides). */
  const open = async (ref: ArtifactReference, side: 'source' | 'destination' = 'source') => {
    const repo = await openRepository(ref, { ...ctx.repositoryOptions, ...ctx.sides?.[side], signal: ctx.signal });
    repos.push(repo);
    return repo;
  };
  try {
    let oldSide: DiffSide;
    let newSide: DiffSide;
    if ('path' in against) {
      // Local first: a wrong --path fails before any request.
      ctx.onStep?.(`reading ${describeInput(against.path)}`);
      newSide = await loadLocalSide(against.path, {
        cwd: ctx.cwd,
        ignorePaths: options.ignorePaths,
        addIgnorePaths: options.addIgnorePaths,
        resolveSymlinks: options.resolveSymlinks,
        keepContent: (file, size) => semanticContent(file, size) || patchContent(file, size),
      });
      const oldRepo = await open(options.ref);
      ctx.onStep?.(`fetching ${formatReference(options.ref)}`);
      const oldResolved = await resolveOrMissing(oldRepo, options.ref, ctx.signal, options);
      ctx.onStep?.('downloading the artifact content');
      oldSide = 'missing' in oldResolved ? oldResolved.missing
        : await artifactSide(oldRepo, oldResolved);
    } else {
      if (options.ignorePaths !== undefined || options.addIgnorePaths !== undefined || options.resolveSymlinks) {
        throw usageError('FLAG_CONFLICT', 'ignore and symlink flags apply to --path only', 'drop them when comparing two artifacts');
      }
      const oldRepo = await open(options.ref);
      const newRepo = await open(against.ref, 'destination');
      ctx.onStep?.('fetching the artifact manifests');
      const [oldResolved, newResolved] = await Promise.all([
        resolveOrMissing(oldRepo, options.ref, ctx.signal, options),
        resolveOrMissing(newRepo, against.ref, ctx.signal, options),
      ]);
      if ('missing' in oldResolved || 'missing' in newResolved) {
        const load = (repo: Repository, side: typeof oldResolved) => ('missing' in side ? side.missing : artifactSide(repo, side));
        ctx.onStep?.('downloading the artifact content');
        return await finish(await load(oldRepo, oldResolved), await load(newRepo, newResolved), options);
      }
      if (newResolved.layer.digest === oldResolved.layer.digest) {
        // Same content layer: the same files, whatever the manifests differ in. Nothing to download.
        const empty = (info: DiffSide['info']): DiffSide => ({ info, files: [], read: async () => undefined });
        return await finish(empty(artifactInfo(oldResolved)), empty(artifactInfo(newResolved)), options);
      }
      ctx.onStep?.('downloading the artifact contents');
      [oldSide, newSide] = await Promise.all([
        artifactSide(oldRepo, oldResolved),
        artifactSide(newRepo, newResolved),
      ]);
    }
    return await finish(oldSide, newSide, options);
  } finally {
    await Promise.all(repos.map((repo) => repo.close()));
  }
}

/** The artifact side, or with missingAsChanged an empty one when its tag or repository does not exist. */
async function resolveOrMissing(repo: Repository, ref: ArtifactReference, signal: AbortSignal, options: DiffOptions): Promise<ResolvedSide | { missing: DiffSide }> {
  try {
    return await resolveArtifactSide(repo, ref, signal);
  } catch (err) {
    if (!options.missingAsChanged || !(isOciError(err, Code.ManifestUnknown) || isOciError(err, Code.NameUnknown))) throw err;
    return { missing: { info: { reference: formatReference(ref), missing: true }, files: [], read: async () => undefined } };
  }
}

async function finish(oldSide: DiffSide, newSide: DiffSide, options: DiffOptions): Promise<DiffResult> {
  const changes = compareFiles(oldSide.files, newSide.files);
  // A missing tag is a change in itself, even when the other side has no files either.
  const missing = oldSide.info.missing === true || newSide.info.missing === true;
  const result: DiffResult = { old: oldSide.info, new: newSide.info, differs: missing || changes.length > 0, summary: summarise(changes), changes };
  const semanticPaths = new Set<string>();
  if (options.semantic || options.objectSummary) result.semantic = await semanticDiff(oldSide, newSide);
  if (options.semantic && result.semantic !== undefined) {
    for (const path of result.semantic.files) semanticPaths.add(path);
    result.differs = missing || result.semantic.objects.length > 0 || changes.some((c) => !semanticPaths.has(c.path));
  }
  if (options.unified) {
    result.patches = [];
    for (const batch of patchBatches(changes.filter((change) => !semanticPaths.has(change.path)))) {
      await Promise.all([
        oldSide.hold?.(batch.filter((c) => c.old !== undefined).map((c) => c.path)),
        newSide.hold?.(batch.filter((c) => c.new !== undefined).map((c) => c.path)),
      ]);
      for (const change of batch) {
        const [before, after] = await Promise.all([
          change.old ? oldSide.read(change.path) : undefined,
          change.new ? newSide.read(change.path) : undefined,
        ]);
        result.patches.push({ path: change.path, ...renderFilePatch(change, before, after) });
      }
    }
  }
  return result;
}

/** Changes in order, cut where the content a patch reads (text up to MAX_TEXT_DIFF_BYTES) would pass HELD_CONTENT_BYTES. */
function patchBatches(changes: readonly FileChange[]): FileChange[][] {
  const read = (side: FileChange['old']): number => (side === undefined || side.size > MAX_TEXT_DIFF_BYTES ? 0 : side.size);
  const batches: FileChange[][] = [];
  let bytes = Infinity;
  for (const change of changes) {
    const size = change.status === 'mode-changed' ? 0 : read(change.old) + read(change.new);
    if (bytes + size > HELD_CONTENT_BYTES) {
      batches.push([]);
      bytes = 0;
    }
    batches[batches.length - 1]!.push(change);
    bytes += size;
  }
  return batches;
}

/**
 * Objects of every YAML file that parses on each side where it exists. A file that does not parse (or was too
 * large to load) on either side is left to the file comparison on both, so its objects are not reported as
 * removed or added.
 */
async function semanticDiff(oldSide: DiffSide, newSide: DiffSide): Promise<SemanticResult> {
  const paths = [...new Set([...oldSide.files, ...newSide.files].map((f) => f.path).filter(isYamlPath))].sort();
  const oldPaths = new Set(oldSide.files.map((f) => f.path));
  const newPaths = new Set(newSide.files.map((f) => f.path));
  const oldObjects: YamlObject[] = [];
  const newObjects: YamlObject[] = [];
  const files: string[] = [];
  const secretFiles: string[] = [];
  for (const path of paths) {
    const before = oldPaths.has(path) ? await parseSide(oldSide, path) : [];
    const after = newPaths.has(path) ? await parseSide(newSide, path) : [];
    if ([...before ?? [], ...after ?? []].some((object) => object.kind === 'Secret')) secretFiles.push(path);
    if (before === undefined || after === undefined) continue;
    // One at a time: push(...objects) overflows the call stack for a file of more than ~120k YAML documents.
    for (const object of before) oldObjects.push(object);
    for (const object of after) newObjects.push(object);
    files.push(path);
  }
  return { objects: diffObjects(oldObjects, newObjects), files, secretFiles };
}

async function parseSide(side: DiffSide, path: string): Promise<YamlObject[] | undefined> {
  const bytes = await side.read(path);
  return bytes === undefined ? undefined : parseYamlObjects(path, bytes.toString('utf8'));
}
