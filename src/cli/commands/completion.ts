import { handler, newCommand, type WholeProgram } from '../command.js';

/** `completion SHELL`: a completion script generated from the command table (completion.ts). */
export function completionCommand(program: WholeProgram) {
  return newCommand('completion')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', '\nExamples:\n  source <(oci-artifact completion bash)\n  oci-artifact completion fish | source\n')
    .action(handler(async (shell) => {
      const { completionScript } = await import('../completion.js');
      // The whole program, every command built (this run built only this one): the script lists every command and flag.
      process.stdout.write(completionScript(await program.buildWhole(), shell));
      return 0;
    }));
}
