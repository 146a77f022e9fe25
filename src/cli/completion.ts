import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { usageError } from '../errors.js';

/** Shell completion scripts generated from the command table, so they never drift from the real flags. */
export type Shell = 'bash' | 'zsh' | 'fish';

interface CommandInfo {
  name: string;
  description: string;
  flags: string[];
}

function describe(program: CommandUnknownOpts): { globals: string[]; commands: CommandInfo[] } {
  const flagsOf = (cmd: CommandUnknownOpts) => cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
  return {
    globals: [...flagsOf(program), '--help'],
    commands: program.commands.map((c) => ({ name: c.name(), description: c.description(), flags: [...flagsOf(c), '--help'] })),
  };
}

export function completionScript(program: CommandUnknownOpts, shell: string): string {
  const { globals, commands } = describe(program);
  const names = commands.map((c) => c.name).join(' ');
  switch (shell) {
    case 'bash': {
      const cases = commands.map((c) => `    ${c.name}) flags="${[...c.flags, ...globals].join(' ')}" ;;`).join('\n');
      return `# bash completion for oci-artifact; load with: source <(oci-artifact completion bash)
_oci_artifact() {
  local cur cmd flags
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${names} ${globals.join(' ')}" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) flags="${globals.join(' ')}" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o default -F _oci_artifact oci-artifact
`;
    }
    case 'zsh': {
      const cmdList = commands.map((c) => `    '${c.name}:${c.description.replace(/'/g, "'\\''")}'`).join('\n');
      const cases = commands.map((c) => `      ${c.name}) _arguments ${[...c.flags, ...globals].map((f) => `'${f}'`).join(' ')} '*:file:_files' ;;`).join('\n');
      return `#compdef oci-artifact
# zsh completion for oci-artifact; load with: source <(oci-artifact completion zsh)
_oci_artifact() {
  local -a commands
  commands=(
${cmdList}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "$words[2]" in
${cases}
  esac
}
compdef _oci_artifact oci-artifact
`;
    }
    case 'fish': {
      const lines = commands.flatMap((c) => [
        `complete -c oci-artifact -n '__fish_use_subcommand' -a ${c.name} -d '${c.description.replace(/'/g, "\\'")}'`,
        ...c.flags.filter((f) => f.startsWith('--')).map((f) => `complete -c oci-artifact -n '__fish_seen_subcommand_from ${c.name}' -l ${f.slice(2)}`),
      ]);
      const global = globals.filter((f) => f.startsWith('--')).map((f) => `complete -c oci-artifact -l ${f.slice(2)}`);
      return `# fish completion for oci-artifact; load with: oci-artifact completion fish | source\n${[...lines, ...global].join('\n')}\n`;
    }
    default:
      throw usageError('SHELL_UNSUPPORTED', `no completion for shell '${shell}'`, 'use bash, zsh or fish');
  }
}
