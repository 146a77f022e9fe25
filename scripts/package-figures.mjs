#!/usr/bin/env node
// Measures the published package and rewrites the README paragraph between the package-figures markers:
// `npm pack --dry-run` gives the package size, unpacked size and file count; installing the packed tarball into a
// temporary directory (as `npm install oci-artifact` would, dependencies from npm's cache or the registry) gives
// the installed size, the number of dependencies and the share of sigstore's libraries.
//
// bench/sections/package.ts imports packFigures and installFigures for the npx cost (issue 17 item 5).
//
//   node scripts/package-figures.mjs            rewrite README.md (needs `npm run build`)
//   node scripts/package-figures.mjs --check    exit 1 when a README figure is off by more than 10% (or the text
//                                               around the figures differs); the README says "about", and code
//                                               changes move the figures a little with every commit
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markedParagraph, replaceMarked, wrap } from './readme-markers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = join(ROOT, 'README.md');
const START = '<!-- package-figures: written by scripts/package-figures.mjs -->';
const END = '<!-- /package-figures -->';
const TOLERANCE = 0.1;
const NPM_QUIET = ['--no-audit', '--no-fund', '--loglevel=error'];

function npm(args, cwd) {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

export function packFigures() {
  const [pack] = JSON.parse(npm(['pack', '--dry-run', '--json', ...NPM_QUIET], ROOT));
  return { size: pack.size, unpackedSize: pack.unpackedSize, files: pack.entryCount };
}

/** Total size of the files under `dir`. */
function treeSize(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += treeSize(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/**
 * Install the packed tarball into a temporary project and measure what landed in node_modules and how long
 * `npm install` took. With `keep`, the project is left for the caller (to run the installed CLI) and named in `dir`.
 */
export function installFigures({ keep = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'oci-artifact-figures-'));
  try {
    const tarball = npm(['pack', '--silent', '--pack-destination', dir], ROOT).trim().split('\n').pop();
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    const started = performance.now();
    npm(['install', '--omit=dev', '--prefer-offline', ...NPM_QUIET, `./${tarball}`], dir);
    const installMs = performance.now() - started;
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')).packages;
    const installed = Object.keys(lock).filter((path) => path.startsWith('node_modules/'));
    const own = 'node_modules/oci-artifact';
    const sizeOf = (path) => treeSize(join(dir, path)) - nestedSize(dir, path);
    // Packages reachable from the direct dependencies that are not sigstore's: the rest is sigstore's share.
    const direct = Object.keys(lock[own].dependencies ?? {});
    const isSigstore = (name) => name === 'sigstore' || name.startsWith('@sigstore/');
    const reachable = new Set();
    const visit = (path) => {
      if (reachable.has(path)) return;
      reachable.add(path);
      for (const name of Object.keys(lock[path].dependencies ?? {})) visit(resolve(lock, path, name));
    };
    for (const name of direct.filter((name) => !isSigstore(name))) visit(resolve(lock, own, name));
    const sizes = Object.fromEntries(installed.map((path) => [path, sizeOf(path)]));
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    const sigstore = installed.filter((path) => path !== own && !reachable.has(path)).reduce((a, path) => a + sizes[path], 0);
    return { installedSize: total, dependencies: installed.length - 1, sigstoreSize: sigstore, installMs, ...(keep ? { dir } : {}) };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Size of the packages nested in `path`'s own node_modules (counted as packages of their own). */
function nestedSize(dir, path) {
  const nested = join(dir, path, 'node_modules');
  return existsSync(nested) ? treeSize(nested) : 0;
}

/** Where node finds dependency `name` of the package at `from`: the nearest node_modules up the tree. */
function resolve(lock, from, name) {
  for (let base = from; ; base = base.slice(0, base.lastIndexOf('/node_modules/'))) {
    if (lock[`${base}/node_modules/${name}`]) return `${base}/node_modules/${name}`;
    if (!base.includes('/node_modules/')) break;
  }
  if (lock[`node_modules/${name}`]) return `node_modules/${name}`;
  throw new Error(`${name} (a dependency of ${from}) is not installed`);
}

const KiB = (n) => Math.round(n / 1024);
const MiB = (n) => Math.round(n / 1024 / 1024);

function paragraph(f) {
  const text =
    `The package is ${KiB(f.size)} KiB (${KiB(f.unpackedSize)} KiB unpacked, ${f.files} files: \`bin/\`, \`dist/\`, this README); ` +
    `installed with its ${f.dependencies} dependencies it takes about ${MiB(f.installedSize)} MiB, ${MiB(f.sigstoreSize)} MiB of it ` +
    "sigstore's libraries (keyless signature verification) and what only they need. Nothing runs at install time.";
  return wrap(text, 115);
}

// Run as a script (not imported by the bench).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readme = readFileSync(README, 'utf8');
  const current = markedParagraph(readme, START, END);
  const wanted = paragraph({ ...packFigures(), ...installFigures() });

  if (process.argv[2] === '--check') {
    const numbers = (text) => (text.match(/\d+/g) ?? []).map(Number);
    const shape = (text) => text.replace(/\d+/g, '#').replace(/\s+/g, ' ');
    const [have, want] = [numbers(current.text), numbers(wanted)];
    const off = want.filter((value, i) => Math.abs(have[i] - value) > Math.max(1, value * TOLERANCE));
    if (shape(current.text) !== shape(wanted) || off.length > 0) {
      console.error(`README.md's package figures are out of date; run: node scripts/package-figures.mjs\nREADME:   ${current.text.replace(/\n/g, ' ')}\nmeasured: ${wanted.replace(/\n/g, ' ')}`);
      process.exit(1);
    }
    console.log(`package figures: README within ${TOLERANCE * 100}% of measured (${wanted.replace(/\n/g, ' ')})`);
  } else {
    writeFileSync(README, replaceMarked(readme, START, END, wanted));
    console.log(wanted);
  }
}
