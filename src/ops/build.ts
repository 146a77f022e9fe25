import { readlink, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { usageError } from '../errors.js';
import { writeArchiveFile, type PackOptions } from '../artifact/pack.js';
import { absoluteInput, describeInput, type PackInput } from '../artifact/sources.js';
import type { OpContext } from './support/context.js';
import { stageStdin } from './support/stdin.js';

export interface BuildOptions extends Omit<PackOptions, 'signal'> {
  /** Directory, file, '-' for stdin, or several sources (artifact/sources.ts). */
  path: PackInput;
  output: string;
  stdin?: NodeJS.ReadableStream;
}

export interface BuildResult {
  output: string;
  digest: string;
  size: number;
  files: number;
}

/** Symbolic links met before giving up, as the kernel's own limit (ELOOP). */
const MAX_LINKS = 40;

/**
 * The file to write for an output path: a symbolic link is followed, as the shell's `>` follows it, to an existing
 * file or to a new one whose directory exists; the link itself is kept. Any other output path is itself.
 */
async function followLinks(path: string, shown: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < MAX_LINKS; hops++) {
    const target = await readlink(current).catch(() => undefined);
    if (target === undefined) {
      if (current !== path && !(await stat(dirname(current)).catch(() => undefined))?.isDirectory()) {
        throw usageError('OUTPUT_DANGLING_LINK', `output '${shown}' is a symbolic link to '${current}', whose directory does not exist`, 'Create that directory, or remove the link.');
      }
      return current;
    }
    current = resolve(dirname(current), target);
  }
  throw usageError('OUTPUT_LINK_LOOP', `output '${shown}' is a symbolic link that leads to more than ${MAX_LINKS} others`, 'Give --output a file name.');
}

/** `flux build artifact`: write the content layer as a .tgz file, nothing else. */
export async function build(options: BuildOptions, ctx: OpContext): Promise<BuildResult> {
  const cwd = ctx.cwd ?? process.cwd();
  const staged = options.path === '-' ? await stageStdin(options.stdin ?? process.stdin) : undefined;
  try {
    const input = staged?.path ?? await absoluteInput(options.path, cwd);
    const output = await followLinks(resolve(cwd, options.output), options.output);
    const outInfo = await stat(output).catch(() => undefined);
    if (outInfo?.isDirectory()) {
      throw usageError('OUTPUT_IS_DIRECTORY', `output '${options.output}' is a directory`, 'give --output a file name such as artifact.tgz');
    }
    ctx.onStep?.(`packing ${describeInput(options.path)}`);
    const result = await writeArchiveFile(input, { ...options, signal: ctx.signal }, output);
    return { output, ...result };
  } finally {
    await staged?.remove();
  }
}
