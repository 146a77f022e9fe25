import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A working Docker credential helper (docker-credential-<name>) for tests, put in a temp bin directory: it keeps
 * credentials in a JSON file and logs each action (never the secret). `failWith` makes every action fail after
 * printing that text on stderr, to test that a helper's output is capped and redacted.
 */
export interface TestCredentialHelper {
  name: string;
  binDir: string;
  storeFile: string;
  logFile: string;
  /** PATH with the bin directory first. */
  path: string;
  /** Actions run so far, as `action serverURL`. */
  log(): string[];
  stored(): Record<string, { Username: string; Secret: string }>;
}

export function createCredentialHelper(name: string, options: { failWith?: string; initial?: Record<string, { Username: string; Secret: string }> } = {}): TestCredentialHelper {
  const dir = mkdtempSync(join(tmpdir(), 'cred-helper-'));
  const binDir = join(dir, 'bin');
  const storeFile = join(dir, 'store.json');
  const logFile = join(dir, 'log.txt');
  writeFileSync(storeFile, JSON.stringify(options.initial ?? {}));
  writeFileSync(logFile, '');
  const script = `#!${process.execPath}
const fs = require('node:fs');
const action = process.argv[2];
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const store = JSON.parse(fs.readFileSync(${JSON.stringify(storeFile)}, 'utf8'));
  const fail = ${JSON.stringify(options.failWith ?? null)};
  if (fail !== null) { process.stderr.write(fail + '\\n'); process.exit(3); }
  if (action === 'store') {
    const c = JSON.parse(input);
    store[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
    fs.writeFileSync(${JSON.stringify(storeFile)}, JSON.stringify(store));
    fs.appendFileSync(${JSON.stringify(logFile)}, 'store ' + c.ServerURL + '\\n');
    return;
  }
  const url = input.trim();
  fs.appendFileSync(${JSON.stringify(logFile)}, action + ' ' + url + '\\n');
  if (action === 'get') {
    const c = store[url];
    if (!c) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
    process.stdout.write(JSON.stringify({ ServerURL: url, Username: c.Username, Secret: c.Secret }));
  } else if (action === 'erase') {
    if (!store[url]) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
    delete store[url];
    fs.writeFileSync(${JSON.stringify(storeFile)}, JSON.stringify(store));
  } else { process.exit(2); }
});
`;
  mkdirSync(binDir);
  const program = join(binDir, `docker-credential-${name}`);
  writeFileSync(program, script);
  chmodSync(program, 0o755);
  return {
    name,
    binDir,
    storeFile,
    logFile,
    path: `${binDir}${delimiter}${process.env.PATH ?? ''}`,
    log: () => readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== ''),
    stored: () => JSON.parse(readFileSync(storeFile, 'utf8')) as Record<string, { Username: string; Secret: string }>,
  };
}
