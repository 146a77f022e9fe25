import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciError } from '../../src/errors.js';
import { expandVariables, parseConfigFile, type VariableLookup } from '../../src/ops/support/config-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oa-config-'));
  await mkdir(join(dir, 'apps/web'), { recursive: true });
  await writeFile(join(dir, 'apps/web/a.yaml'), 'a: 1\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vars: VariableLookup = (name) => ({ REGISTRY: 'r.example', GIT_SHA: 'abc123', EMPTY: '' } as Record<string, string>)[name];
const parse = (text: string) => parseConfigFile(text, 'oci-artifact.yaml', dir, vars);

function error(text: string): string {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(OciError);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', kind: 'usage' });
    return (err as Error).message;
  }
  throw new Error('expected the file to be refused');
}

const VALID = `version: 1
artifacts:
  - name: web
    reference: oci://\${REGISTRY}/apps/web:prod
    tags: ["\${GIT_SHA}", latest]
    sources: [apps/web:web, apps/web/a.yaml]
    ignore: ["*.md"]
    annotations: { team: web, build: "\${GIT_SHA}", cost: $$5 }
    sign: { key: keys/cosign.key }
`;

describe('oci-artifact.yaml', () => {
  it('reads artifacts with variables expanded and paths made absolute against the file', () => {
    const file = parse(VALID);
    expect(file.baseDir).toBe(dir);
    expect(file.artifacts).toEqual([{
      name: 'web',
      ref: expect.objectContaining({ registry: 'r.example', repository: 'apps/web', tag: 'prod' }),
      tags: ['abc123', 'latest'],
      sources: [{ path: join(dir, 'apps/web'), dest: 'web' }, { path: join(dir, 'apps/web/a.yaml'), dest: '' }],
      ignore: ['*.md'],
      annotations: { team: 'web', build: 'abc123', cost: '$5' },
      sign: { key: join(dir, 'keys/cosign.key') },
      line: 3,
    }]);
  });

  it('reads flux: keys, checked and normalised as the --flux-* flags are', () => {
    const file = parse(`${VALID}    flux: { name: web.prod, namespace: apps, interval: 10m, path: apps/web }\n`);
    expect(file.artifacts[0]!.flux).toEqual({ name: 'web.prod', namespace: 'apps', interval: '10m', path: './apps/web' });
  });

  it.each([
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web]\n    sorces: [b]\n', "oci-artifact.yaml:6: artifacts[0]: unknown key 'sorces'"],
    ['version: 2\nartifacts: []\n', "oci-artifact.yaml:1: 'version' must be 1"],
    ['version: 1\nartifacts: []\n', "oci-artifact.yaml:2: 'artifacts' must be a non-empty list"],
    ['version: 1\nartifacts:\n  - name: web\n    sources: [apps/web]\n', "oci-artifact.yaml:3: artifacts[0] needs 'reference'"],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n', "oci-artifact.yaml:3: artifacts[0] needs 'sources'"],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x@sha256:' + 'a'.repeat(64) + '\n    sources: [apps/web]\n', 'oci-artifact.yaml:4: artifacts[0].reference'],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://${NOPE}/x:1\n    sources: [apps/web]\n', 'oci-artifact.yaml:4: artifacts[0].reference: ${NOPE} is not set'],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://${EMPTY}/x:1\n    sources: [apps/web]\n', 'oci-artifact.yaml:4: artifacts[0].reference: ${EMPTY} is not set'],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    tags:\n      - ok\n      - "bad tag"\n    sources: [apps/web]\n', "oci-artifact.yaml:7: artifacts[0].tags: invalid tag 'bad tag'"],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web]\n  - name: web\n    reference: oci://r/y:1\n    sources: [apps/web]\n', "oci-artifact.yaml:6: artifacts[1].name 'web' is already used on line 3"],
    ['version: 1\nartifacts:\n  - name: a\n    reference: oci://r.example/x:1\n    sources: [apps/web]\n  - name: b\n    reference: oci://r.example/x:1\n    sources: [apps/web]\n', "oci-artifact.yaml:7: artifacts[1].reference 'oci://r.example/x:1' makes oci://r.example/x:1, which 'a' makes too"],
    ['version: 1\nartifacts:\n  - name: a\n    reference: oci://r.example/x:a\n    tags: [\"${GIT_SHA}\"]\n    sources: [apps/web]\n  - name: b\n    reference: oci://r.example/x:b\n    tags: [\"${GIT_SHA}\"]\n    sources: [apps/web]\n', "oci-artifact.yaml:9: artifacts[1].tags: 'abc123' makes oci://r.example/x:abc123, which 'a' makes too"],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web:/abs]\n', "oci-artifact.yaml:5: artifacts[0].sources: 'apps/web:/abs': the destination '/abs' must be a relative path"],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: []\n', 'oci-artifact.yaml:5: artifacts[0].sources must list at least one source'],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web]\n    sign: cosign.key\n', 'oci-artifact.yaml:6: artifacts[0].sign must be a mapping'],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web]\n    annotations:\n      a: [1]\n', 'oci-artifact.yaml:7: artifacts[0].annotations.a must be a string'],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web\n', 'oci-artifact.yaml:6: Flow sequence'],
    ['version: 1\nartifacts:\n  - name: web\n    name: web2\n', 'oci-artifact.yaml:4: Map keys must be unique'],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources:\n      - apps/web\n      - apps/nope:x\n', "oci-artifact.yaml:7: artifacts[0].sources: 'apps/nope' does not exist in"],
    ['- just a list\n', "oci-artifact.yaml:1: the file must be a mapping"],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web]\n    flux: ./web\n', 'oci-artifact.yaml:6: artifacts[0].flux must be a mapping'],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web]\n    flux:\n      path: web\n      prune: false\n', "oci-artifact.yaml:8: artifacts[0].flux: unknown key 'prune' (expected name, namespace, interval, path)"],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web]\n    flux: { name: Web }\n', "oci-artifact.yaml:6: artifacts[0].flux.name 'Web' is not a Kubernetes name"],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web]\n    flux:\n      interval: 5\n', 'oci-artifact.yaml:7: artifacts[0].flux.interval must be a non-empty string'],
    ['version: 1\nartifacts:\n  - name: web\n    reference: oci://r/x:1\n    sources: [apps/web]\n    flux: { path: ../up }\n', "artifacts[0].flux.path '../up' is not a path inside the artifact"],
  ])('refuses a bad file with its line: %#', (text, message) => {
    expect(error(text)).toContain(message);
  });
});

describe('expandVariables', () => {
  const fail = (message: string): never => {
    throw new Error(message);
  };
  it('replaces ${NAME}, keeps a lone $, turns $$ into $', () => {
    expect(expandVariables('a-${GIT_SHA}-$x-$$', vars, fail)).toBe('a-abc123-$x-$');
  });
  it('refuses an unclosed or invalid name', () => {
    expect(() => expandVariables('${GIT_SHA', vars, fail)).toThrow("without a closing '}'");
    expect(() => expandVariables('${1X}', vars, fail)).toThrow('is not a variable name');
  });
});
