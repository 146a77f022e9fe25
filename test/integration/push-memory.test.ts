import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';
import { PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/**
 * Peak resident memory of the built CLI's push, read from /proc at its exit (Linux only). The bounds sit between
 * what was measured before and after a fix, well clear of both: the peak of a process is not disturbed by load.
 */
const registry = useRegistry();
const work = useWorkDir();
const PRELOAD = join(ROOT, 'test', 'helpers', 'peak-rss.cjs');

async function peakRssMiB(args: string[]): Promise<number> {
  const r = await runCli(args, { env: { NODE_OPTIONS: `--require ${PRELOAD}` }, timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  const kib = /peak-rss-kib (\d+)/.exec(r.stderr);
  expect(kib, r.stderr).not.toBeNull();
  return Number(kib![1]) / 1024;
}

describe.runIf(existsSync('/proc/self/status'))('push peak memory', () => {
  it('a 1-file push stays below 90 MiB (undici compiled with TurboFan too peaked at ~105 MiB; now ~70)', async () => {
    const dir = join(work.path, 'one');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'app.yaml'), 'kind: ConfigMap\n');
    const peak = await peakRssMiB(['push', `oci://${registry.host}/memory/one:v1`, '--path', dir, ...PROVENANCE]);
    expect(peak).toBeLessThan(90);
  });
});
