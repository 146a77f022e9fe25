import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import type { OutputFormat } from '../output/printer.js';
import type { ArtifactReference } from '../ref/reference.js';
import type { CredentialTargets } from './creds-input.js';
import type { GlobalFlags } from './global-flags.js';
import type { CommandRuntime, RuntimeFlags } from './runtime.js';

/**
 * What every command module builds on: a command typed with the global flags, a handler that returns the exit
 * status, the parsed arguments of a command on artifacts, and the runtime (signal, timeout, reporter, credentials)
 * set up around one operation.
 */

/** A command whose options are typed from its own flag definitions, with the global flags (global-flags.ts). */
export function newCommand(name: string) {
  return new Command<[], {}, GlobalFlags>(name);
}

/** The whole program, every command built: what `completion` lists (program.ts hands it to command factories). */
export interface WholeProgram {
  buildWhole(): Promise<CommandUnknownOpts>;
}

let exitStatus = 0;

/** A command's action: its result is the exit status of the run (0 ok, 1 differences or failed verification). */
export function handler<Params extends unknown[]>(run: (...params: Params) => Promise<number>): (...params: Params) => Promise<void> {
  return async (...params) => {
    exitStatus = await run(...params);
  };
}

/** The exit status the command that ran returned (0 when none ran, e.g. --help). */
export function takeExitStatus(): number {
  const status = exitStatus;
  exitStatus = 0;
  return status;
}

/**
 * Run `work` inside a runtime, always disposed afterwards (timer, signal handlers, progress display). The runtime
 * module (reporter, credentials) loads here, when a command runs, so --help and completion never load it.
 * `targets`: the references a two-sided command reaches, so credentials given without a host go to one registry.
 */
export async function withRuntime<T>(flags: RuntimeFlags, work: (runtime: CommandRuntime) => Promise<T>, targets?: CredentialTargets): Promise<T> {
  const { createRuntime } = await import('./runtime.js');
  const runtime = await createRuntime(flags, targets);
  try {
    return await work(runtime);
  } finally {
    runtime.dispose();
  }
}

/** A second reference argument parsed: given or not, as the argument was (a copy's destination always is). */
type ParsedOther<Other extends string | undefined> = Other extends string ? ArtifactReference : undefined;

/**
 * The preamble of the commands on artifacts: the reference argument, a second reference where the command takes one
 * (copy's destination, diff's other artifact, tag --to), then the `-o` format (`formats`: the command's own besides
 * table, json and yaml), each refused with a usage error in that order before any request. The parsers load here,
 * when a command runs, so --help never loads them.
 */
export async function parseArtifactArguments<Other extends string | undefined = undefined, Extra extends string = never>(
  reference: string,
  output: string | undefined,
  more: { other?: Other; formats?: readonly Extra[] } = {},
): Promise<{ ref: ArtifactReference; other: ParsedOther<Other>; format: OutputFormat | Extra }> {
  const { parseReference } = await import('../ref/reference.js');
  const { parseOutputFormat } = await import('../output/printer.js');
  const ref = parseReference(reference);
  const other = (more.other === undefined ? undefined : parseReference(more.other)) as ParsedOther<Other>;
  return { ref, other, format: parseOutputFormat(output, 'table', more.formats) };
}
