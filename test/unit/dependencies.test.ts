import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/**
 * Every runtime dependency is one src/ imports (or one that an imported package needs beside it, a peer
 * dependency): issue 17 item 5, what `npx oci-artifact` installs is what runs. `sigstore` (whose parts are
 * imported directly) and `chalk` (node's util.styleText) went this way.
 */
function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) yield path;
  }
}

const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const manifest = (name: string) => JSON.parse(readFileSync(join(ROOT, ...(name === '.' ? [] : ['node_modules', name]), 'package.json'), 'utf8'));

describe('runtime dependencies', () => {
  const imported = new Set<string>();
  for (const file of sources(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    // Import and export statements (their `from` may be lines below), dynamic imports and require calls.
    const statements = text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|\brequire\(\s*'([^']+)'\s*\)/gm);
    for (const m of statements) {
      const specifier = m[1] ?? m[2] ?? m[3]!;
      if (!specifier.startsWith('.') && !specifier.startsWith('node:')) imported.add(packageName(specifier));
    }
  }
  const dependencies = Object.keys(manifest('.').dependencies ?? {});

  it('are all imported by src/, or are the peer of one that is', () => {
    const peers = new Set([...imported].flatMap((name) => Object.keys(manifest(name).peerDependencies ?? {})));
    expect(dependencies.filter((name) => !imported.has(name) && !peers.has(name))).toEqual([]);
  });

  it('cover every package src/ imports', () => {
    expect([...imported].filter((name) => !dependencies.includes(name)).sort()).toEqual([]);
  });
});
