import { handler, newCommand } from '../command.js';

/** `completion SHELL`: a completion script generated from the command table (completion.ts). */
export function completionCommand() {
  return newCommand('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', '\nExamples:\n  source <(oci-artifact completion bash)\n  oci-artifact completion fish | source\n')
    .action(handler(async (shell, _flags, cmd) => {
      const { completionScript } = await import('../completion.js');
      // The program is this command's parent: the script lists every command and flag it has.
      process.stdout.write(completionScript(cmd.parent ?? cmd, shell));
      return 0;
    }));
}
