import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { useWorkDir } from '../helpers/fixtures.js';

/**
 * scripts/test-summary.mjs writes CI's closing lines from vitest JSON reports: a crash, a file that did not load or
 * a missing report must never add up to "0 failed".
 */
const work = useWorkDir('oci-artifact-summary-');

interface FileResult {
  status: 'passed' | 'failed';
  message?: string;
  tests: Array<'passed' | 'failed'>;
}

/** A vitest JSON report with the given files, counted as vitest counts them. */
async function report(name: string, files: FileResult[], pending = 0): Promise<string> {
  const tests = files.flatMap((f) => f.tests);
  const path = join(work.path, name);
  await writeFile(
    path,
    JSON.stringify({
      numPassedTests: tests.filter((t) => t === 'passed').length,
      numFailedTests: tests.filter((t) => t === 'failed').length,
      numPendingTests: pending,
      numTodoTests: 0,
      testResults: files.map((f, i) => ({
        name: `/repo/test/file-${i}.test.ts`,
        status: f.status,
        message: f.message ?? '',
        assertionResults: f.tests.map((status) => ({ status })),
      })),
    }),
  );
  return path;
}

function summary(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'test-summary.mjs'), ...args], { encoding: 'utf8' });
  return { code: r.status, lines: r.stdout.trimEnd().split('\n') };
}

describe('scripts/test-summary.mjs', () => {
  it('prints one line per run and one closing line summing them, last', async () => {
    const suite = await report('suite.json', [{ status: 'passed', tests: ['passed', 'passed'] }], 1);
    const faults = await report('faults.json', [{ status: 'passed', tests: ['passed'] }]);
    const node22 = await report('22.json', [{ status: 'failed', tests: ['passed', 'failed'] }]);
    const runs = join(work.path, 'runs.json');
    await writeFile(runs, JSON.stringify([{ label: 'node 22.1.0', reports: [node22], exitCode: 1 }]));

    const r = summary(['--run', 'node 20.1.0', suite, faults, '--runs', runs]);
    expect(r.lines).toEqual(['node 20.1.0: 3 passed, 0 failed, 1 skipped', 'node 22.1.0: 1 passed, 1 failed', 'tests: 4 passed, 1 failed, 1 skipped']);
    expect(r.code).toBe(1);
    expect(summary(['--run', 'node 20.1.0', suite, faults]).code).toBe(0);
  });

  it('counts a file that failed outside any test, a run that exited non-zero with no failed test, and a missing report as failures', async () => {
    const broken = await report('broken.json', [
      { status: 'passed', tests: ['passed'] },
      { status: 'failed', message: 'Error: Cannot find module x\n    at …', tests: [] },
    ]);
    const green = await report('green.json', [{ status: 'passed', tests: ['passed'] }]);
    const runs = join(work.path, 'crashed-runs.json');
    await writeFile(runs, JSON.stringify([{ label: 'node 24.1.0', reports: [green], exitCode: 134 }]));

    const r = summary(['--run', 'a', broken, '--runs', runs, '--run', 'b', join(work.path, 'absent.json')]);
    expect(r.lines).toEqual([
      'a: 1 passed, 1 failed',
      '  /repo/test/file-1.test.ts: Error: Cannot find module x',
      'node 24.1.0: 1 passed, 1 failed',
      '  the test run exited with 134 although no test failed',
      'b: 0 passed, 1 failed',
      `  no report at ${join(work.path, 'absent.json')}`,
      'tests: 2 passed, 3 failed',
    ]);
    expect(r.code).toBe(1);
  });
});
