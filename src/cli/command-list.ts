import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { WholeProgram } from './command.js';

/**
 * The commands, in the order `--help` lists them: what the list shows (name, arguments, description) and where
 * the command's module is. program.ts imports a command module (src/cli/commands/<name>.ts) only when its name is
 * on the command line, so `--help` loads none and `push --help` one, not fifteen (issue 17: start-up stays small as
 * the tool grows); `completion` and the tests build the whole table.
 */
export interface CommandEntry {
  name: string;
  /** What follows the name in `--help`'s list, as commander writes it for the built command (checked by test/unit/cli-flags.test.ts). */
  term: string;
  /** The command's description, given to it by program.ts whether it is built or only listed. */
  description: string;
  load(): Promise<CommandFactory>;
}

/** What a command module exports: its command, built. `completion` lists every command, so it gets the builder of the whole program. */
export type CommandFactory = (program: WholeProgram) => CommandUnknownOpts;

export const COMMAND_LIST: readonly CommandEntry[] = [
  { name: 'push', term: '[options] [reference]', description: 'package directories or files and push them as a Flux artifact; --all pushes every artifact of oci-artifact.yaml', load: async () => (await import('./commands/push.js')).pushCommand },
  { name: 'pull', term: '[options] <reference>', description: 'pull an artifact and extract its content into a directory', load: async () => (await import('./commands/pull.js')).pullCommand },
  { name: 'build', term: '[options]', description: 'write the artifact content as a .tgz file without pushing it', load: async () => (await import('./commands/build.js')).buildCommand },
  { name: 'tag', term: '[options] <reference>', description: 'add tags to an artifact, keeping its manifest bytes and digest (optionally in another repository)', load: async () => (await import('./commands/tag.js')).tagCommand },
  { name: 'list', term: '[options] <repository>', description: 'list the artifacts of a repository with their digest, source and revision', load: async () => (await import('./commands/list.js')).listCommand },
  { name: 'diff', term: '[options] <reference> [other]', description: 'show which files differ between an artifact and a directory, or between two artifacts', load: async () => (await import('./commands/diff.js')).diffCommand },
  { name: 'verify', term: '[options] <reference>', description: 'verify the cosign or notation signatures of an artifact, as Flux does', load: async () => (await import('./commands/verify.js')).verifyCommand },
  { name: 'sign', term: '[options] <reference>', description: 'sign an artifact with a private key or keyless (Fulcio certificate, Rekor entry), cosign-compatible', load: async () => (await import('./commands/sign.js')).signCommand },
  { name: 'attest', term: '[options] <reference>', description: 'attach a signed in-toto attestation (SLSA provenance, SBOM, ...) to an artifact, cosign-compatible', load: async () => (await import('./commands/attest.js')).attestCommand },
  { name: 'copy', term: '[options] <source> <destination>', description: 'copy an artifact (or a selection of its tags) with its signatures between registries, OCI layouts and bundles, keeping digests', load: async () => (await import('./commands/copy.js')).copyCommand },
  { name: 'inspect', term: '[options] <reference>', description: 'show the manifest, config, annotations, layers, files and signatures of an artifact', load: async () => (await import('./commands/inspect.js')).inspectCommand },
  { name: 'generate-key-pair', term: '[options]', description: 'write a cosign-compatible key pair: an encrypted private key (COSIGN_PASSWORD) and its public key', load: async () => (await import('./commands/generate-key-pair.js')).generateKeyPairCommand },
  { name: 'login', term: '[options] <registry>', description: 'check credentials at a registry and store them as Docker does (credential helper or config.json)', load: async () => (await import('./commands/login.js')).loginCommand },
  { name: 'logout', term: '<registry>', description: 'remove the credentials stored for a registry', load: async () => (await import('./commands/logout.js')).logoutCommand },
  { name: 'completion', term: '<shell>', description: 'print a shell completion script (bash, zsh or fish)', load: async () => (await import('./commands/completion.js')).completionCommand },
];

