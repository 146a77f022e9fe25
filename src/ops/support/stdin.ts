import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { usageError } from '../../errors.js';

/** Name given to manifests read from stdin; fixed so the same input always yields the same digest. */
const STDIN_FILE_NAME = 'stdin.yaml';

/**
 * Save stdin to a private temp directory so it can be packed like any file (Flux does the same with `-f -`).
 * The caller removes it. Empty stdin is refused: it is what a failed producer in `kustomize build | push -f -`
 * leaves, and an empty artifact under a live tag would make Flux prune everything it deployed.
 */
export async function stageStdin(stdin: NodeJS.ReadableStream): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-artifact-stdin-'));
  const path = join(dir, STDIN_FILE_NAME);
  try {
    // 0644 inside the artifact like any checked-out file; the temp directory itself is private (0700).
    await pipeline(stdin, createWriteStream(path, { mode: 0o644 }));
    if ((await stat(path)).size === 0) {
      throw usageError('STDIN_EMPTY', "'-f -' read nothing from stdin", 'check the command that feeds it (with `set -o pipefail` a failing one stops the pipeline)');
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}
