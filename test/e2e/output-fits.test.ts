import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/** Output that reads the same everywhere: references with their scheme, human sizes, plain YAML. */
const work = useWorkDir('oci-artifact-output-');
const registry = useRegistry();

beforeAll(async () => {
  await mkdir(join(work.path, 'app'));
  await writeFile(join(work.path, 'app', 'small.yaml'), 'a: 1\n');
  await writeFile(join(work.path, 'app', 'large.yaml'), `data: "${'x'.repeat(3000)}"\n`);
  for (const target of [`oci-layout://${join(work.path, 'store')}:v1`, `oci://${registry.host}/output/app:v1`]) {
    const r = await runCli(['push', target, '-f', join(work.path, 'app'), ...PROVENANCE]);
    expect(r.code, r.stderr).toBe(0);
  }
});

describe('output that reads the same everywhere', () => {
  it('list names registry artifacts oci://… in the table and in -o json, as push and tag do', async () => {
    const table = await runCli(['list', `oci://${registry.host}/output/app`]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(`oci://${registry.host}/output/app:v1`);
    const json = await runCli(['list', `oci://${registry.host}/output/app`, '-o', 'json']);
    expect(JSON.parse(json.stdout)[0].url).toBe(`oci://${registry.host}/output/app:v1`);
  });

  it('inspect --files shows human sizes and --max-size says its limit in them', async () => {
    const store = `oci-layout://${join(work.path, 'store')}:v1`;
    const files = await runCli(['inspect', store, '--files']);
    expect(files.stdout).toMatch(/-rw-r--r--\s+2\.9 KiB\s+large\.yaml/);
    expect(files.stdout).toMatch(/-rw-r--r--\s+5 B\s+small\.yaml/);
    const limited = await runCli(['inspect', store, '--files', '--max-size', '2Ki']);
    expect(limited.code).toBe(3);
    expect(limited.stderr).toContain('the archive unpacks to more than 2.0 KiB');
  });

  it('-o yaml writes no anchors or aliases', async () => {
    const r = await runCli(['push', `oci-layout://${join(work.path, 'store')}:v2`, '-f', join(work.path, 'app'), ...PROVENANCE, '-o', 'yaml']);
    expect(r.code, r.stderr).toBe(0);
    // filesLayer is one of the layers: the same object twice in the result.
    const inspected = await runCli(['inspect', `oci-layout://${join(work.path, 'store')}:v2`, '--files', '-o', 'yaml']);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.stdout).not.toMatch(/(^|\s)[&*][a-z]+\d+\b/m);
  });
});
