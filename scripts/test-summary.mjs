#!/usr/bin/env node
// Sums vitest JSON reports into one `LABEL: N passed, N failed` line per run and one closing
// `tests: N passed, N failed, N skipped` line, for CI logs. A test file that failed outside any test (it did not
// load, a hook threw) and a run that exited non-zero without a failing test each count as one failure, so a
// crash is never summed as green.
//
//   node scripts/test-summary.mjs --run LABEL REPORT.json... [--runs RUNS.json]...
//
// RUNS.json (written by scripts/node-matrix.mjs) is a list of { label, reports: [path], exitCode }.
// Exits 1 when anything failed or nothing passed.
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Counts of one vitest JSON report; a missing report is one failure. */
export function countReport(path) {
  if (!existsSync(path)) return { passed: 0, failed: 1, skipped: 0, notes: [`no report at ${path}`] };
  const report = JSON.parse(readFileSync(path, 'utf8'));
  const fileErrors = report.testResults.filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
  );
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + fileErrors.length,
    skipped: report.numPendingTests + report.numTodoTests,
    notes: fileErrors.map((file) => `${file.name}: ${(file.message || 'failed outside a test').split('\n')[0]}`),
  };
}

/** Counts of one run (several reports under one label), with its exit code when known. */
export function countRun({ label, reports, exitCode }) {
  const total = { label, passed: 0, failed: 0, skipped: 0, notes: [] };
  for (const path of reports) {
    const counts = countReport(path);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    total.notes.push(...counts.notes);
  }
  if (exitCode !== undefined && exitCode !== 0 && total.failed === 0) {
    total.failed = 1;
    total.notes.push(`the test run exited with ${exitCode} although no test failed`);
  }
  return total;
}

const line = (label, { passed, failed, skipped }) =>
  `${label}: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;

/** Prints one line per run, then the closing line; returns whether everything passed. */
export function printSummary(runs) {
  const counted = runs.map(countRun);
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const run of counted) {
    console.log(line(run.label, run));
    for (const note of run.notes) console.log(`  ${note}`);
    total.passed += run.passed;
    total.failed += run.failed;
    total.skipped += run.skipped;
  }
  console.log(line('tests', total));
  return total.failed === 0 && total.passed > 0;
}

function parseArgs(args) {
  const runs = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--run' && i + 1 < args.length) {
      const run = { label: args[++i], reports: [] };
      while (i + 1 < args.length && !args[i + 1].startsWith('--')) run.reports.push(args[++i]);
      runs.push(run);
    } else if (args[i] === '--runs' && i + 1 < args.length) {
      const path = args[++i];
      if (!existsSync(path)) runs.push({ label: path, reports: [path] });
      else runs.push(...JSON.parse(readFileSync(path, 'utf8')));
    } else {
      throw new Error(`unexpected argument ${args[i]}: usage: test-summary.mjs --run LABEL REPORT.json... [--runs RUNS.json]`);
    }
  }
  return runs;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(printSummary(parseArgs(process.argv.slice(2))) ? 0 : 1);
}
