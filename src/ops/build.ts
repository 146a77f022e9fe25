import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { usageError } from '../errors.js';
import { writeArchiveFile, type PackOptions } from '../artifact/pack.js';
import type { OpContext } from './context.js';
import { stageStdin } from './stdin.js';

export interface BuildOptions extends Omit<PackOptions, 'signal'> {
  path: string;
  output: string;
  stdin?: NodeJS.ReadableStream;
}

export interface BuildResult {
  output: string;
  digest: string;
  size: number;
  files: number;
}

/** `flux build artifact`: write the content layer as a .tgz file, nothing else. */
export async function build(options: BuildOptions, ctx: OpContext): Promise<BuildResult> {
  const cwd = ctx.cwd ?? process.cwd();
  const staged = options.path === '-' ? await stageStdin(options.stdin ?? process.stdin) : undefined;
  try {
    const input = staged?.path ?? resolve(cwd, options.path);
    if (!staged) {
      await stat(input).catch(() => {
        throw usageError('PATH_NOT_FOUND', `path '${options.path}' does not exist`, 'give --path a directory or file to build');
      });
    }
    const output = resolve(cwd, options.output);
    const outInfo = await stat(output).catch(() => undefined);
    if (outInfo?.isDirectory()) {
      throw usageError('OUTPUT_IS_DIRECTORY', `output '${options.output}' is a directory`, 'give --output a file name such as artifact.tgz');
    }
    ctx.onStep?.(`packing ${options.path}`);
    const result = await writeArchiveFile(input, { ...options, signal: ctx.signal }, output);
    return { output, ...result };
  } finally {
    await staged?.remove();
  }
}
