import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { PROVENANCE, useRegistry, useWorkDir } from '../helpers/fixtures.js';

/** Issue 15 item 6: `diff --missing-as-changed` on the real registry (flux2#3425: a new app's tag does not exist yet). */
const registry = useRegistry();
const work = useWorkDir('oci-artifact-diff-missing-');
let dir: string;

beforeAll(async () => {
  dir = join(work.path, 'app');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'a.yaml'), 'kind: ConfigMap\nmetadata: {name: a}\n');
  await writeFile(join(dir, 'b.yaml'), 'kind: ConfigMap\nmetadata: {name: b}\n');
  const pushed = await runCli(['push', `oci://${registry.host}/dm/app:v1`, '-f', dir, ...PROVENANCE]);
  expect(pushed.code, pushed.stderr).toBe(0);
});

const oci = (path: string) => `oci://${registry.host}/${path}`;

describe('diff --missing-as-changed', () => {
  it('without it, a missing tag is an error (exit 3)', async () => {
    const r = await runCli(['diff', oci('dm/app:v2'), '--path', dir]);
    expect(r.code).toBe(3);
  });

  for (const [what, missing] of [['a tag', 'dm/app:v2'], ['a repository', 'dm/new-app:v1']] as const) {
    it(`${what} that does not exist counts as every file added, exit 1`, async () => {
      const r = await runCli(['diff', oci(missing), '--path', dir, '--missing-as-changed', '-o', 'json']);
      expect(r.code, r.stderr).toBe(1);
      const result = JSON.parse(r.stdout);
      expect(result.old).toMatchObject({ reference: oci(missing), missing: true });
      expect(result.differs).toBe(true);
      expect(result.changes.map((c: { path: string; kind?: string }) => c.path)).toEqual(['a.yaml', 'b.yaml']);
      expect(result.summary).toMatchObject({ added: 2 });
    });
  }

  it('between two artifacts, a missing second one counts as every file removed', async () => {
    const r = await runCli(['diff', oci('dm/app:v1'), oci('dm/app:gone'), '--missing-as-changed', '-o', 'json']);
    expect(r.code, r.stderr).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result.new).toMatchObject({ missing: true });
    expect(result.summary).toMatchObject({ removed: 2 });
  });

  it('an existing tag is compared as before (exit 0 when equal)', async () => {
    const r = await runCli(['diff', oci('dm/app:v1'), '--path', dir, '--missing-as-changed']);
    expect(r.code, r.stderr).toBe(0);
  });
});
