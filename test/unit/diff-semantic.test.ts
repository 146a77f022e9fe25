import { describe, expect, it } from 'vitest';
import { diffObjects, fieldChanges, formatPath, parseYamlObjects, REDACTED } from '../../src/diff/semantic.js';
import { renderObjectChanges } from '../../src/diff/render.js';

const deployment = (replicas: number, image: string, extra = '') => `# the web deployment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  replicas: ${replicas}
  template:
    spec:
      containers:
        - name: sidecar
          image: envoy:1
        - name: web
          image: ${image}
${extra}`;

describe('parseYamlObjects', () => {
  it('identifies documents by apiVersion/kind/namespace/name and skips empty documents', () => {
    const objects = parseYamlObjects('all.yaml', `${deployment(1, 'a')}---\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n`);
    expect(objects?.map((o) => o.display)).toEqual(['apps/v1 Deployment prod/web', 'v1 Namespace prod']);
  });

  it('keys documents without an identity by file and index', () => {
    const objects = parseYamlObjects('kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n');
    expect(objects?.map((o) => o.key)).toEqual(['kustomization.yaml#0']);
  });

  it('returns undefined for invalid YAML so the file is compared as text', () => {
    expect(parseYamlObjects('bad.yaml', 'a: [1, 2\nb: : :\n')).toBeUndefined();
    expect(parseYamlObjects('empty.yaml', '')).toEqual([]);
  });
});

describe('diffObjects', () => {
  it('ignores key order, comments, quoting and moves between files', () => {
    const a = parseYamlObjects('a.yaml', deployment(2, 'nginx:1.25'))!;
    const reordered = `spec:\n  template:\n    spec:\n      containers:\n        - image: "envoy:1"\n          name: sidecar\n        - {name: web, image: 'nginx:1.25'}\n  replicas: 2\nkind: Deployment\nmetadata: {namespace: prod, name: web}\napiVersion: apps/v1\n`;
    const b = parseYamlObjects('moved/b.yaml', reordered)!;
    expect(diffObjects(a, b)).toEqual([]);
  });

  it('names changed fields with old and new values, matching named list entries by name', () => {
    const a = parseYamlObjects('web.yaml', deployment(2, 'nginx:1.25'))!;
    const b = parseYamlObjects('web.yaml', deployment(3, 'nginx:1.27', '  strategy:\n    type: Recreate\n'))!;
    const changes = diffObjects(a, b);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ object: 'apps/v1 Deployment prod/web', status: 'modified', oldFile: 'web.yaml', newFile: 'web.yaml' });
    expect(changes[0]!.fields).toEqual([
      { path: 'spec.replicas', change: 'changed', old: 2, new: 3 },
      { path: 'spec.strategy', change: 'added', new: { type: 'Recreate' } },
      { path: 'spec.template.spec.containers[name=web].image', change: 'changed', old: 'nginx:1.25', new: 'nginx:1.27' },
    ]);
    expect(renderObjectChanges(changes)).toBe(
      '~ apps/v1 Deployment prod/web (web.yaml)\n' +
        '    ~ spec.replicas: 2 -> 3\n' +
        '    + spec.strategy: {"type":"Recreate"}\n' +
        '    ~ spec.template.spec.containers[name=web].image: "nginx:1.25" -> "nginx:1.27"\n',
    );
  });

  it('matches named list entries by name, so an insertion is one added entry', () => {
    const env = (items: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      env: [${items}]\n`;
    const a = parseYamlObjects('p.yaml', env('{name: A, value: "1"}, {name: B, value: "2"}'))!;
    const b = parseYamlObjects('p.yaml', env('{name: NEW, value: "0"}, {name: A, value: "1"}, {name: B, value: "2"}'))!;
    expect(diffObjects(a, b)[0]!.fields).toEqual([
      { path: 'spec.containers[name=c].env[name=NEW]', change: 'added', new: { name: 'NEW', value: '0' } },
    ]);
  });

  it('reports whole objects added and removed', () => {
    const a = parseYamlObjects('x.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n')!;
    const b = parseYamlObjects('x.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n')!;
    const changes = diffObjects(a, b);
    expect(changes.map((c) => [c.object, c.status])).toEqual([['v1 ConfigMap new', 'added'], ['v1 ConfigMap old', 'removed']]);
    expect(renderObjectChanges(changes)).toBe('+ v1 ConfigMap new (x.yaml)\n- v1 ConfigMap old (x.yaml)\n');
  });

  it('never shows Secret values', () => {
    const secret = (v: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  password: ${v}\n`;
    const changes = diffObjects(parseYamlObjects('s.yaml', secret('aHVudGVyMg=='))!, parseYamlObjects('s.yaml', secret('c2VjcmV0'))!);
    expect(changes[0]!.fields).toEqual([{ path: 'data.password', change: 'changed', old: REDACTED, new: REDACTED }]);
    expect(renderObjectChanges(changes)).not.toMatch(/aHVudGVyMg|c2VjcmV0/);
  });
});

describe('fieldChanges', () => {
  it('reports added and removed keys and index-matched list changes', () => {
    expect(fieldChanges({ a: 1, b: [1, 2] }, { b: [1, 3, 4], c: { d: true } })).toEqual([
      { path: 'a', change: 'removed', old: 1 },
      { path: 'b[1]', change: 'changed', old: 2, new: 3 },
      { path: 'b[2]', change: 'added', new: 4 },
      { path: 'c', change: 'added', new: { d: true } },
    ]);
  });

  it('quotes keys that are not identifiers', () => {
    expect(formatPath(['metadata', 'labels', 'app.kubernetes.io/name'])).toBe('metadata.labels["app.kubernetes.io/name"]');
    expect(formatPath([])).toBe('.');
  });
});
