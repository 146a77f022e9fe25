import { unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { stageFile, type StagedFile } from '../atomic-write.js';
import { OciError, usageError } from '../errors.js';
import { generateCosignKeyPair } from '../signing/keys.js';

export interface GenerateKeyPairOptions {
  /** Path prefix of the two files: `<prefix>.key` and `<prefix>.pub` (cosign's --output-key-prefix). */
  prefix: string;
  password: string;
  /** Replace existing files; otherwise an existing file is an error and nothing is written. */
  force?: boolean;
  cwd?: string;
}

export interface GenerateKeyPairResult {
  privateKey: string;
  publicKey: string;
}

/**
 * Write a cosign-compatible key pair. Both files appear complete or not at all: each is written to a temporary
 * file beside it first, then linked into place (link fails instead of overwriting) or, with `force`, renamed.
 */
export async function generateKeyPair(options: GenerateKeyPairOptions): Promise<GenerateKeyPairResult> {
  const base = resolve(options.cwd ?? process.cwd(), options.prefix);
  const { privateKeyPem, publicKeyPem } = generateCosignKeyPair(options.password);
  const files = [
    { path: `${base}.key`, mode: 0o600, pem: privateKeyPem },
    { path: `${base}.pub`, mode: 0o644, pem: publicKeyPem },
  ];
  const staged: StagedFile[] = [];
  const placed: string[] = [];
  try {
    for (const file of files) staged.push(await stageFile(file.path, file.pem, { mode: file.mode }));
    for (const [i, file] of files.entries()) {
      if (options.force) await staged[i]!.replace();
      else await staged[i]!.create();
      placed.push(file.path);
    }
  } catch (err) {
    // Without --force nothing existed at the placed paths before: take back what this run put there.
    if (!options.force) await Promise.all(placed.map((p) => unlink(p).catch(() => undefined)));
    throw placementError(err);
  } finally {
    await Promise.all(staged.map((s) => s.discard()));
  }
  return { privateKey: files[0]!.path, publicKey: files[1]!.path };
}

function placementError(err: unknown): OciError {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (e.code === 'EEXIST') return usageError('FILE_EXISTS', `${e.dest ?? e.path} already exists`, 'pass --force to replace the key pair, or choose another --output-key-prefix');
  return new OciError('FILE_UNWRITABLE', `cannot write the key pair: ${e.code ?? e.message}${e.path ? ` (${e.path})` : ''}`, { kind: 'usage', cause: err });
}
