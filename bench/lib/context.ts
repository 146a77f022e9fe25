import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry, type TestRegistry } from '../../test/helpers/registry.js';
import { writeYamlTree } from './corpus.js';
import { run, runOk, type RunOptions, type RunResult } from './proc.js';

/** Shared by all sections of one run: paths, settings, one registry, a scratch directory. */

/** The repository root, found from this file whether it runs from bench/ or from the compiled .bench-build/. */
export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
export const BIN = join(ROOT, 'bin', 'oci-artifact.js');
export const NODE = process.execPath;
export const PROVENANCE = ['--source', 'https://example.invalid/org/repo', '--revision', 'main@sha1:0123456789abcdef0123456789abcdef01234567'];

export interface Settings {
  /** Repetitions of quick measurements (start-up, Kustomize tree). */
  runs: number;
  /** Size of the large tree in MiB (section d and the gzip section). */
  largeMiB: number;
  /** Repetitions of large-tree measurements (best of). */
  largeRuns: number;
}

export class BenchContext {
  readonly work = mkdtempSync(join(tmpdir(), 'oci-artifact-bench-'));
  private registryStarted: Promise<TestRegistry> | undefined;
  private largeCorpus: { tree: string; file: string; bytes: number } | undefined;

  constructor(readonly settings: Settings, readonly log: (line: string) => void) {}

  /** One plain CNCF Distribution registry for the whole run, started on first use. */
  registry(): Promise<TestRegistry> {
    this.registryStarted ??= startRegistry();
    return this.registryStarted;
  }

  /** The large YAML corpus (settings.largeMiB), as a tree of 2048 files and as one file, generated once per run. */
  large(): { tree: string; file: string; bytes: number } {
    if (this.largeCorpus === undefined) {
      this.log(`  generating ${this.settings.largeMiB} MiB of YAML`);
      const tree = join(this.work, 'large-tree');
      const file = join(this.work, 'large-corpus.yaml');
      const bytes = writeYamlTree(tree, { totalBytes: this.settings.largeMiB * 1024 * 1024, files: 2048, perDir: 32 }, file);
      this.largeCorpus = { tree, file, bytes };
    }
    return this.largeCorpus;
  }

  /** The built CLI as a user runs it: `node bin/oci-artifact.js …`, with no CI or colour hints. */
  cli(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return run(NODE, [BIN, ...args], { env: cliEnv(), ...options });
  }

  async cliOk(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return runOk(NODE, [BIN, ...args], { env: cliEnv(), ...options });
  }

  /** Whether the CLI has a subcommand (`tag`, `list` arrive with other work). */
  async hasCommand(name: string): Promise<boolean> {
    const r = await this.cli([name, '--help'], { captureStdout: true, timeoutMs: 20_000 });
    return r.code === 0 && r.stdout.includes(`Usage: oci-artifact ${name}`);
  }

  async close(): Promise<void> {
    if (this.registryStarted !== undefined) await (await this.registryStarted).stop();
    rmSync(this.work, { recursive: true, force: true });
  }
}

export function cliEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(CI|GITHUB_|GITLAB_|CI_|FORCE_COLOR|OCI_ARTIFACT_|DOCKER_CONFIG|ACTIONS_ID_TOKEN_|SIGSTORE_ID_TOKEN)/.test(key)) continue;
    env[key] = value;
  }
  env.NO_COLOR = '1';
  return env;
}

/** Put a manifest under more tags straight at the registry (set-up, not measured). */
export async function tagManifest(registryHost: string, repository: string, from: string, tags: string[]): Promise<void> {
  const manifest = await httpCall('GET', `http://${registryHost}/v2/${repository}/manifests/${from}`, {
    accept: 'application/vnd.oci.image.manifest.v1+json',
  });
  const type = manifest.headers['content-type'] ?? 'application/vnd.oci.image.manifest.v1+json';
  const queue = [...tags];
  const worker = async (): Promise<void> => {
    for (let tag = queue.shift(); tag !== undefined; tag = queue.shift()) {
      const put = await httpCall('PUT', `http://${registryHost}/v2/${repository}/manifests/${tag}`, { 'content-type': type }, manifest.body);
      if (put.status !== 201) throw new Error(`tagging ${repository}:${tag} answered ${put.status}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Upload one blob straight to the registry (set-up, not measured); returns its descriptor digest. */
export async function putBlob(registryHost: string, repository: string, bytes: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const started = await httpCall('POST', `http://${registryHost}/v2/${repository}/blobs/uploads/`, {});
  const location = started.headers.location;
  if (started.status !== 202 || location === undefined) throw new Error(`starting an upload to ${repository} answered ${started.status}`);
  const url = new URL(location, `http://${registryHost}`);
  url.searchParams.set('digest', digest);
  const put = await httpCall('PUT', url.toString(), { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, bytes);
  if (put.status !== 201) throw new Error(`uploading a blob to ${repository} answered ${put.status}`);
  return digest;
}

/** Store manifest bytes under a tag straight at the registry (set-up, not measured). */
export async function putManifest(registryHost: string, repository: string, tag: string, mediaType: string, bytes: Buffer): Promise<void> {
  const put = await httpCall('PUT', `http://${registryHost}/v2/${repository}/manifests/${tag}`, { 'content-type': mediaType }, bytes);
  if (put.status !== 201) throw new Error(`storing ${repository}:${tag} answered ${put.status}`);
}

export function httpCall(method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: Record<string, string | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string | undefined>, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url}: timeout`)));
    req.end(body);
  });
}

function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin'))) return dir;
  }
  throw new Error(`cannot find the repository root above ${from}`);
}

/** Loop `body` up to `count` times, but stop once `budgetMs` is spent (at least one pass). */
export async function bounded(count: number, budgetMs: number, body: (i: number) => Promise<void>): Promise<number> {
  const deadline = performance.now() + budgetMs;
  let i = 0;
  for (; i < count; i++) {
    if (i > 0 && performance.now() > deadline) break;
    await body(i);
  }
  return i;
}
