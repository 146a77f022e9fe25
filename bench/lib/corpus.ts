import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Deterministic Kubernetes-like YAML (repeated structure with varying names, versions, digests and some base64):
 * it compresses about like real manifests do, so gzip throughput figures carry over.
 */
export function* yamlDocs(): Generator<string, never> {
  let s = 0x9e3779b9;
  const rnd = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const words = 'api web worker cache queue gateway billing search auth metrics ingest frontend backend redis kafka nginx'.split(' ');
  const w = (): string => words[rnd() % words.length]!;
  const hex = (n: number): string => {
    let o = '';
    while (o.length < n) o += rnd().toString(16).padStart(8, '0');
    return o.slice(0, n);
  };
  const b64 = (n: number): string => Buffer.from(Array.from({ length: n }, () => rnd() & 255)).toString('base64');
  for (;;) {
    const name = `${w()}-${w()}-${hex(5)}`;
    let doc =
      `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${w()}\n  labels:\n` +
      `    app.kubernetes.io/name: ${name}\n    app.kubernetes.io/version: "${rnd() % 20}.${rnd() % 50}.${rnd() % 100}"\n` +
      `  annotations:\n    checksum/config: ${hex(64)}\nspec:\n  replicas: ${(rnd() % 9) + 1}\n  template:\n    spec:\n` +
      `      containers:\n        - name: ${w()}\n          image: ghcr.io/${w()}/${w()}@sha256:${hex(64)}\n` +
      `          env:\n            - name: ${w().toUpperCase()}_URL\n` +
      `              value: "https://${w()}.${w()}.svc.cluster.local:${rnd() % 60000}/${hex(8)}"\n` +
      `          resources:\n            limits: { cpu: ${rnd() % 4000}m, memory: ${rnd() % 8000}Mi }\n`;
    if (rnd() % 8 === 0) doc += `---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}-tls\ndata:\n  tls.crt: ${b64(200 + (rnd() % 200))}\n`;
    yield doc;
  }
}

export interface TreeSpec {
  totalBytes: number;
  files: number;
  /** Files per directory (a Kustomize-like tree of apps/<name>/<file>.yaml). */
  perDir: number;
}

/**
 * Write `spec.files` YAML files totalling `spec.totalBytes` under `root`, and, when `corpusFile` is given, the
 * same bytes concatenated into that one file (for compressor-only measurements). Returns the bytes written.
 */
export function writeYamlTree(root: string, spec: TreeSpec, corpusFile?: string): number {
  mkdirSync(root, { recursive: true });
  const perFile = Math.ceil(spec.totalBytes / spec.files);
  const docs = yamlDocs();
  const corpus = corpusFile === undefined ? undefined : openSync(corpusFile, 'w');
  let written = 0;
  try {
    for (let i = 0; i < spec.files && written < spec.totalBytes; i++) {
      let text = '';
      while (text.length < perFile) text += docs.next().value;
      const bytes = Buffer.from(text).subarray(0, Math.min(perFile, spec.totalBytes - written));
      const dir = join(root, 'apps', `app-${String(Math.floor(i / spec.perDir)).padStart(3, '0')}`);
      if (i % spec.perDir === 0) mkdirSync(dir, { recursive: true });
      const fd = openSync(join(dir, `resource-${String(i % spec.perDir).padStart(3, '0')}.yaml`), 'w');
      try {
        writeSync(fd, bytes);
      } finally {
        closeSync(fd);
      }
      if (corpus !== undefined) writeSync(corpus, bytes);
      written += bytes.length;
    }
  } finally {
    if (corpus !== undefined) closeSync(corpus);
  }
  return written;
}
