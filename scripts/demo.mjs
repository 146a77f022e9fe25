#!/usr/bin/env node
// The README's first command: push examples/ into a local OCI layout (no registry needed), then use every
// everyday command on it, printing each command line as it runs. Exits non-zero if any step fails.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'oci-artifact.js');
const store = '.oci-store';
const out = join(store, 'pulled');

function git(args, fallback) {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : fallback;
}

const revision = `${git(['symbolic-ref', '--short', '-q', 'HEAD'], 'main')}@sha1:${git(['rev-parse', 'HEAD'], '0'.repeat(40))}`;
const source = git(['config', '--get', 'remote.origin.url'], 'https://example.invalid/oci-artifact-demo').replace(/\/\/[^/@]*@/, '//');

function step(args, { allow = [0] } = {}) {
  process.stdout.write(`\n$ oci-artifact ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: 'inherit' });
  if (!allow.includes(r.status)) {
    process.stderr.write(`demo: 'oci-artifact ${args[0]}' exited with ${r.status}\n`);
    process.exit(1);
  }
  return r.status;
}

rmSync(store, { recursive: true, force: true });
const ref = `oci-layout://${store}:demo`;
step(['push', ref, '--path', 'examples/app', '--source', source, '--revision', revision, '--reproducible']);
step(['push', ref, '--path', 'examples/app', '--source', source, '--revision', revision, '--reproducible', '-o', 'json']);
step(['tag', ref, '--tag', 'v1.0.0,latest']);
step(['list', `oci-layout://${store}`]);
step(['pull', ref, '--output', out]);
step(['diff', ref, '--path', 'examples/app']);
step(['inspect', ref, '--files']);
if (!existsSync(join(root, out, 'base', 'kustomization.yaml'))) {
  process.stderr.write('demo: pulled content is missing base/kustomization.yaml\n');
  process.exit(1);
}
process.stdout.write(`\ndemo: pushed examples/app to ${ref}, pulled it back into ${out}: done\n`);
