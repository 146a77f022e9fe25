#!/usr/bin/env node
/**
 * Writes the hostile-input corpus under fixtures/hostile/: one folder per case with `case.json` (what it is and
 * what the CLI must do with it) and the layer it serves (`layer.tar`, gzip'd at push time, or `layer.bin`, pushed
 * as is). Inputs too large to commit (a gzip bomb, a manifest over 4 MiB) are described in case.json and built by
 * the test with `generateLayer` / the manifest kind. `flags.json` lists malformed references and flags.
 *
 *   node scripts/make-hostile-corpus.mjs          # rewrite fixtures/hostile
 *   node scripts/make-hostile-corpus.mjs --check  # fail when the committed corpus differs from this script
 *
 * Every tar is built header by header here, so any name or entry type is possible (no tar tool would write them).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { Header } from 'tar';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CORPUS_DIR = join(ROOT, 'fixtures', 'hostile');

/** One raw tar entry: a 512-byte header, then the body padded to 512. */
function entry({ path, type = 'File', body = '', linkpath, mode = 0o644 }) {
  const data = Buffer.from(body);
  const size = type === 'File' ? data.length : 0;
  const block = Buffer.alloc(512);
  new Header({ path, type, size, mode, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(0), linkpath }).encode(block, 0);
  if (size === 0) return block;
  return Buffer.concat([block, data, Buffer.alloc((512 - (size % 512)) % 512)]);
}

export function tarOf(entries) {
  return Buffer.concat([...entries.map(entry), Buffer.alloc(1024)]);
}

const OK = { path: 'ok.yaml', body: 'kind: ConfigMap\n' };
const UNSAFE = { exit: 3, code: 'UNSAFE_ARCHIVE', stderr: 'refusing the archive' };

/** name -> case; `tar` entries become layer.tar, `bin` becomes layer.bin. */
export const CASES = {
  'absolute-path': { description: 'an entry named with an absolute path', tar: [OK, { path: '/tmp/oci-artifact-evil.yaml', body: 'x' }], expect: UNSAFE },
  'dotdot-escape': { description: "an entry that climbs out with '../'", tar: [OK, { path: '../evil.yaml', body: 'x' }], expect: UNSAFE },
  'dotdot-after-normalisation': { description: "an entry that escapes only once 'a/../../' is normalised", tar: [OK, { path: 'a/../../evil.yaml', body: 'x' }], expect: UNSAFE },
  'backslash-name': { description: 'a Windows-style name with backslashes', tar: [OK, { path: '..\\..\\evil.yaml', body: 'x' }], expect: UNSAFE },
  'symlink-out': {
    description: 'a symlink pointing out of the target (skipped and reported, as Flux does: never created)',
    tar: [OK, { path: 'escape', type: 'SymbolicLink', linkpath: '../../sentinel' }],
    expect: { exit: 0, files: ['ok.yaml'], stderr: 'skipped escape' },
  },
  'symlink-dir-write-through': {
    description: 'a symlinked directory, then a file written through it',
    tar: [OK, { path: 'dir', type: 'SymbolicLink', linkpath: '../../sentinel' }, { path: 'dir/evil.yaml', body: 'x' }],
    expect: { ...UNSAFE, stderr: 'through the symlink' },
  },
  'hardlink-out': { description: 'a hard link to a file outside the target', tar: [OK, { path: 'passwd', type: 'Link', linkpath: '/etc/passwd' }], expect: { ...UNSAFE, stderr: 'hard link' } },
  'char-device': { description: 'a character device entry', tar: [OK, { path: 'null', type: 'CharacterDevice' }], expect: { ...UNSAFE, stderr: 'device' } },
  'block-device': { description: 'a block device entry', tar: [OK, { path: 'sda', type: 'BlockDevice' }], expect: { ...UNSAFE, stderr: 'device' } },
  fifo: { description: 'a FIFO entry', tar: [OK, { path: 'pipe', type: 'FIFO' }], expect: { ...UNSAFE, stderr: 'FIFO' } },
  'duplicate-entry': { description: 'the same file twice (the second would overwrite the first)', tar: [OK, { path: 'ok.yaml', body: 'evil: true\n' }], expect: { ...UNSAFE, stderr: 'appears twice' } },
  'file-below-file': { description: 'a file, then an entry below it as if it were a directory', tar: [OK, { path: 'ok.yaml/inner', body: 'x' }], expect: { ...UNSAFE, stderr: 'below the file' } },
  'setuid-file': {
    description: 'a setuid, world-writable file (extracted with its permission bits less the umask: 0755 under umask 022, never setuid)',
    tar: [{ path: 'run.sh', body: '#!/bin/sh\n', mode: 0o4777 }],
    expect: { exit: 0, files: ['run.sh'], modes: { 'run.sh': '755' } },
  },
  'gzip-bomb': {
    description: 'a tiny gzip that expands past the 100 MiB default limit (built at test time)',
    generate: 'gzip-bomb',
    expect: { exit: 3, code: 'ARCHIVE_TOO_LARGE', stderr: 'more than' },
  },
  'truncated-gzip': {
    description: 'a gzip stream cut half way (the descriptor matches the short blob)',
    bin: () => { const gz = gzipSync(tarOf([OK, { path: 'b.yaml', body: 'y'.repeat(4000) }])); return gz.subarray(0, Math.floor(gz.length / 2)); },
    expect: { exit: 3, code: 'ARCHIVE_TRUNCATED', stderr: 'truncated|ends early' },
  },
  'not-gzip': { description: 'a plain, uncompressed tar under the Flux gzip media type', bin: () => tarOf([OK]), expect: { exit: 3, code: 'NOT_GZIP', stderr: 'not gzip' } },
  'empty-layer': { description: 'a layer of zero bytes', bin: () => Buffer.alloc(0), expect: { exit: 3, code: 'NOT_GZIP', stderr: 'empty' } },
  'gzip-inside-gzip': { description: 'a gzip of a gzip (node-tar would silently unpack it twice)', bin: () => gzipSync(gzipSync(tarOf([OK]))), expect: { ...UNSAFE, stderr: 'gzip inside gzip' } },
  'gzip-not-tar': { description: 'gzip-compressed text, not a tar', bin: () => gzipSync('just some text, no tar headers here\n'.repeat(30)), expect: { exit: 3, stderr: 'tar' } },
  'zero-layers': { description: 'a manifest with no layers', tar: [OK], manifest: 'zero-layers', expect: { exit: 3, stderr: 'layer' } },
  'several-layers': {
    description: 'several layers with the Flux content layer last (chosen by media type, never by position)',
    tar: [OK], manifest: 'several-layers',
    expect: { exit: 0, files: ['ok.yaml'] },
  },
  'wrong-media-types': { description: 'a layer typed text/plain and an unknown config type', tar: [OK], manifest: 'wrong-media-types', expect: { exit: 2, code: 'LAYER_NOT_FOUND', stderr: "no layer is a gzip'd tar" } },
  'huge-manifest': {
    description: 'a manifest over 4 MiB (built at test time and served by the test proxy: the registry itself refuses to store it)',
    tar: [OK], manifest: 'huge', expect: { exit: 3, stderr: 'larger than|too large|4 MiB|4194304' },
  },
  'size-lies-smaller': { description: 'a layer descriptor stating fewer bytes than the blob has', tar: [OK], manifest: 'size-smaller', expect: { exit: 3, stderr: 'bytes|size' } },
  'size-lies-larger': { description: 'a layer descriptor stating more bytes than the blob has', tar: [OK], manifest: 'size-larger', expect: { exit: 3, stderr: 'bytes|size' } },
};

/** Malformed references and flags: each must fail with exit 2 and one line matching `stderr`. */
export const FLAG_CASES = [
  { description: 'tag with invalid characters', args: ['pull', 'oci://127.0.0.1:5000/app:bad tag!', '-o', 'out'], stderr: 'tag' },
  { description: 'tag longer than 128 characters', args: ['pull', `oci://127.0.0.1:5000/app:${'a'.repeat(129)}`, '-o', 'out'], stderr: 'tag' },
  { description: 'upper-case repository', args: ['pull', 'oci://127.0.0.1:5000/App/Config:v1', '-o', 'out'], stderr: 'lower-case' },
  { description: 'digest of the wrong length', args: ['pull', 'oci://127.0.0.1:5000/app@sha256:abc123', '-o', 'out'], stderr: '64' },
  { description: 'digest with an unknown algorithm', args: ['pull', `oci://127.0.0.1:5000/app@md5:${'a'.repeat(32)}`, '-o', 'out'], stderr: 'digest|algorithm' },
  { description: 'reference without oci://', args: ['pull', '127.0.0.1:5000/app:v1', '-o', 'out'], stderr: 'oci://' },
  { description: 'empty repository', args: ['pull', 'oci://127.0.0.1:5000/:v1', '-o', 'out'], stderr: 'repository|reference' },
  { description: 'path traversal in the repository', args: ['pull', 'oci://127.0.0.1:5000/../etc:v1', '-o', 'out'], stderr: 'repository|reference|invalid' },
  { description: 'annotation without =', args: ['push', 'oci://127.0.0.1:5000/app:v1', '-f', '.', '-a', 'novalue', '--source', 's', '--revision', 'main@sha1:1111111111111111111111111111111111111111'], stderr: 'annotation' },
  { description: 'annotation with an empty key', args: ['push', 'oci://127.0.0.1:5000/app:v1', '-f', '.', '-a', '=value', '--source', 's', '--revision', 'main@sha1:1111111111111111111111111111111111111111'], stderr: 'annotation' },
  { description: '--path pointing nowhere', args: ['push', 'oci://127.0.0.1:5000/app:v1', '-f', 'no/such/dir', '--source', 's', '--revision', 'main@sha1:1111111111111111111111111111111111111111'], stderr: 'does not exist' },
  { description: 'output path that is a file', args: ['pull', 'oci://127.0.0.1:5000/app:v1', '-o', 'a-file'], stderr: 'not a directory', setup: 'a-file' },
  { description: 'negative --max-size', args: ['pull', 'oci://127.0.0.1:5000/app:v1', '-o', 'out', '--max-size', '-5'], stderr: 'max-size' },
  { description: 'bad --timeout', args: ['--timeout', 'forever', 'pull', 'oci://127.0.0.1:5000/app:v1', '-o', 'out'], stderr: 'duration' },
];

/** A gzip of a tar with one file of `size` zero bytes, streamed (never all in memory). */
export async function gzipBomb(size = 150 * 1024 * 1024) {
  const block = Buffer.alloc(512);
  new Header({ path: 'zeros.bin', type: 'File', size, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) }).encode(block, 0);
  const zero = Buffer.alloc(1024 * 1024);
  const source = Readable.from((function* () {
    yield block;
    for (let left = size; left > 0; left -= zero.length) yield left >= zero.length ? zero : zero.subarray(0, left);
    yield Buffer.alloc(1024);
  })());
  const parts = [];
  for await (const chunk of source.pipe(createGzip({ level: 9 }))) parts.push(chunk);
  return Buffer.concat(parts);
}

function files() {
  const out = new Map([['flags.json', `${JSON.stringify(FLAG_CASES, null, 2)}\n`]]);
  for (const [name, c] of Object.entries(CASES)) {
    const meta = { description: c.description, expect: c.expect };
    if (c.tar) meta.layer = { file: 'layer.tar', gzip: true };
    if (c.bin) meta.layer = { file: 'layer.bin', gzip: false };
    if (c.generate) meta.layer = { generate: c.generate };
    meta.manifest = c.manifest ?? 'flux';
    out.set(`${name}/case.json`, `${JSON.stringify(meta, null, 2)}\n`);
    if (c.tar) out.set(`${name}/layer.tar`, tarOf(c.tar));
    if (c.bin) out.set(`${name}/layer.bin`, c.bin());
  }
  return out;
}

function main() {
  const wanted = files();
  if (process.argv.includes('--check')) {
    const stale = [...wanted].filter(([rel, data]) => !existsSync(join(CORPUS_DIR, rel)) || !readFileSync(join(CORPUS_DIR, rel)).equals(Buffer.from(data)));
    const extra = existsSync(CORPUS_DIR) ? readdirSync(CORPUS_DIR).filter((n) => !wanted.has(n) && ![...wanted.keys()].some((k) => k.startsWith(`${n}/`))) : [];
    if (stale.length > 0 || extra.length > 0) {
      process.stderr.write(`fixtures/hostile is out of date (${[...stale.map(([r]) => r), ...extra].join(', ')}): run node scripts/make-hostile-corpus.mjs\n`);
      process.exit(1);
    }
    return;
  }
  rmSync(CORPUS_DIR, { recursive: true, force: true });
  for (const [rel, data] of wanted) {
    mkdirSync(dirname(join(CORPUS_DIR, rel)), { recursive: true });
    writeFileSync(join(CORPUS_DIR, rel), data);
  }
  process.stdout.write(`wrote ${wanted.size} files for ${Object.keys(CASES).length} cases and ${FLAG_CASES.length} flag cases to fixtures/hostile\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
