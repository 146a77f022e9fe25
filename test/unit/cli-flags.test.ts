import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { Help, type CommandUnknownOpts as Command } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { COMMAND_LIST } from '../../src/cli/command-list.js';
import { buildProgram } from '../../src/cli/program.js';
import { ROOT } from '../helpers/cli.js';

const program = await buildProgram();
const command = (name: string) => program.commands.find((c) => c.name() === name) as Command;

/** Every flag spelling a command accepts: its own options, the global ones, and --help. */
function accepted(cmd: Command): Set<string> {
  const flags = new Set(['--help', '-h']);
  for (const option of [...cmd.options, ...program.options]) {
    if (option.long) flags.add(option.long);
    if (option.short) flags.add(option.short);
  }
  return flags;
}

const everyFlag = new Set(program.commands.flatMap((c) => [...accepted(c)]));

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** The text of every string and template literal in a file (comments are not literals, so they are skipped). */
function stringLiterals(path: string): string[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) found.push(node.text);
    node.forEachChild(visit);
  };
  visit(file);
  return found;
}

/**
 * Flags of other programs that the sources pass on or show in examples: git (provenance), node and V8 (garbage
 * collection, WebAssembly compiler), cosign, kubectl (the Secrets the Flux manifests ask for).
 */
const FOREIGN = new Set(['--get', '--short', '--tags', '--exact-match', '--show-current', '--expose-gc', '--yes', '--from-file', '--liftoff-only',
  '--no-concurrent-marking', '--no-concurrent-sweeping', '--no-concurrent-array-buffer-sweeping', '--no-parallel-scavenge',
  '--no-parallel-compaction', '--no-parallel-pointer-update']);

describe('flags named in messages', () => {
  it('every --flag in a string of src/ is a flag of some command (hints name only real flags)', () => {
    const unknown: string[] = [];
    for (const path of sourceFiles(join(ROOT, 'src'))) {
      for (const text of stringLiterals(path)) {
        for (const [flag] of text.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*(\*)?/g)) {
          const real = flag.endsWith('*') ? [...everyFlag].some((f) => f.startsWith(flag.slice(0, -1))) : everyFlag.has(flag);
          if (!real && !FOREIGN.has(flag)) unknown.push(`${relative(ROOT, path)}: ${flag} in "${text.slice(0, 80)}"`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });
});

describe('COMMAND --help', () => {
  it('lists every flag the command takes, the global ones included', () => {
    for (const cmd of program.commands) {
      const help = cmd.helpInformation();
      const missing = [...cmd.options, ...program.options].filter((o) => !o.hidden && !help.includes(o.flags)).map((o) => o.flags);
      expect(missing, cmd.name()).toEqual([]);
    }
    expect(command('push').helpInformation()).toMatch(/Global Options:[\s\S]*--creds[\s\S]*--password-stdin[\s\S]*--insecure-registry[\s\S]*--timeout[\s\S]*--verbose/);
  });
});

describe('the command list of --help (built without loading the command modules)', () => {
  it("lists each command with the term commander writes for the built command, and the table's description", () => {
    for (const cmd of program.commands.filter((c) => c.name() !== 'help')) {
      const entry = COMMAND_LIST.find((c) => c.name === cmd.name());
      expect(`${cmd.name()} ${entry?.term}`.trimEnd(), cmd.name()).toBe(new Help().subcommandTerm(cmd));
      expect(cmd.description()).toBe(entry?.description);
    }
  });

  it("--help of the program built for `--help` reads as that of the program with every command built, in commander's own terms", async () => {
    const lazy = await buildProgram(['--help']);
    expect(lazy.commands.map((c) => c.options.length)).toEqual(COMMAND_LIST.map(() => 0));
    const whole = (await buildProgram()).configureHelp({ showGlobalOptions: true });
    expect(lazy.helpInformation()).toBe(whole.helpInformation());
  });

  it('a command named on the command line is built in full, the others by name', async () => {
    const lazy = await buildProgram(['push', '--help']);
    const built = lazy.commands.filter((c) => c.options.length > 0).map((c) => c.name());
    expect(built).toEqual(['push']);
    expect(lazy.commands.find((c) => c.name() === 'push')!.helpInformation()).toBe(command('push').helpInformation());
  });
});

/**
 * The flags of Flux's artifact commands (fluxcd/flux2 cmd/flux/{push,pull,build,diff,tag,list}_artifact.go at
 * da2d22d3690191a315822612085f424e4133b06a), with their short forms, plus Flux's global --timeout and --verbose.
 */
const FLUX_FLAGS: Record<string, string[]> = {
  push: ['-f', '--path', '--source', '--revision', '--creds', '--provider', '--ignore-paths', '--add-ignore-paths', '-a', '--annotations', '-o', '--output', '--debug', '--reproducible', '--insecure-registry', '--resolve-symlinks'],
  pull: ['-o', '--output', '--creds', '--provider', '--insecure-registry'],
  build: ['-p', '--path', '-o', '--output', '--ignore-paths', '--add-ignore-paths', '--resolve-symlinks'],
  diff: ['--path', '--creds', '--provider', '--ignore-paths', '--add-ignore-paths', '--insecure-registry'],
  tag: ['--tag', '--creds', '--provider'],
  list: ['--filter-semver', '--filter-regex', '--creds', '--provider', '--insecure-registry'],
};

describe("Flux's flags", () => {
  it.each(Object.entries(FLUX_FLAGS))("%s accepts every flag of Flux's artifact command, short forms included", (name, flags) => {
    const ours = accepted(command(name));
    expect(flags.filter((f) => !ours.has(f))).toEqual([]);
    expect(ours.has('--timeout') && ours.has('--verbose')).toBe(true);
  });
});
