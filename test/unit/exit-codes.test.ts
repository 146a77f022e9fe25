import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE_HELP } from '../../src/cli/global-flags.js';
import { EXIT_CODES } from '../../src/errors.js';

/** The exit-code table is written three times (code, --help, README); they must agree. */
const ROOT = join(import.meta.dirname, '..', '..');

function readmeCodes(): number[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Exit codes'));
  return [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
}

describe('exit codes', () => {
  it('README, --help and the error kinds list the same codes', () => {
    const fromKinds = [...new Set(Object.values(EXIT_CODES))].sort((a, b) => a - b);
    const fromHelp = [...EXIT_CODE_HELP.matchAll(/^\s+(\d+)\s/gm)].map((m) => Number(m[1]));
    expect(fromHelp).toEqual(fromKinds);
    expect(readmeCodes()).toEqual(fromKinds);
  });
});
