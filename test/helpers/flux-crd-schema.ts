/**
 * The parts of Flux's CRD schemas that `push --emit-flux` writes, as the CRDs state them (source-controller
 * config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml and kustomize-controller's
 * kustomize.toolkit.fluxcd.io_kustomizations.yaml, version v1): types, required fields, enums and patterns. No
 * Kubernetes API server is reachable in the tests (`kubectl apply --dry-run=client` needs one to know a CRD's
 * kinds), so the written documents are checked against this with the small validator below. A field the CRD does
 * not have is an error here, as `kubectl apply` with field validation (strict by default since 1.27) refuses it.
 */
export interface Schema {
  type: 'object' | 'string' | 'boolean' | 'array';
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: string[];
  pattern?: string;
  items?: Schema;
}

const str: Schema = { type: 'string' };
const localRef: Schema = { type: 'object', properties: { name: str }, required: ['name'] };
const duration: Schema = { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$' };
/** metadata as Kubernetes checks it for a namespaced object: a DNS-1123 subdomain name and label namespace. */
const metadata: Schema = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
    namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
  },
  required: ['name'],
};

export const OCI_REPOSITORY_V1: Schema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', enum: ['source.toolkit.fluxcd.io/v1'] },
    kind: { type: 'string', enum: ['OCIRepository'] },
    metadata,
    spec: {
      type: 'object',
      required: ['url', 'interval'],
      properties: {
        url: { type: 'string', pattern: '^oci://.*$' },
        ref: { type: 'object', properties: { digest: str, semver: str, semverFilter: str, tag: str } },
        layerSelector: { type: 'object', properties: { mediaType: str, operation: { type: 'string', enum: ['extract', 'copy'] } } },
        provider: { type: 'string', enum: ['generic', 'aws', 'azure', 'gcp'] },
        secretRef: localRef,
        verify: {
          type: 'object',
          required: ['provider'],
          properties: {
            provider: { type: 'string', enum: ['cosign', 'notation'] },
            secretRef: localRef,
            matchOIDCIdentity: { type: 'array', items: { type: 'object', properties: { issuer: str, subject: str }, required: ['issuer', 'subject'] } },
            trustedRootSecretRef: localRef,
          },
        },
        serviceAccountName: str,
        certSecretRef: localRef,
        proxySecretRef: localRef,
        interval: duration,
        timeout: { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m))+$' },
        ignore: str,
        insecure: { type: 'boolean' },
        suspend: { type: 'boolean' },
      },
    },
  },
};

export const KUSTOMIZATION_V1: Schema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { type: 'string', enum: ['kustomize.toolkit.fluxcd.io/v1'] },
    kind: { type: 'string', enum: ['Kustomization'] },
    metadata,
    spec: {
      type: 'object',
      required: ['interval', 'prune', 'sourceRef'],
      properties: {
        interval: duration,
        path: str,
        prune: { type: 'boolean' },
        sourceRef: {
          type: 'object',
          required: ['kind', 'name'],
          properties: { apiVersion: str, kind: { type: 'string', enum: ['OCIRepository', 'GitRepository', 'Bucket', 'ExternalArtifact'] }, name: str, namespace: str },
        },
        targetNamespace: str,
        suspend: { type: 'boolean' },
      },
    },
  },
};

/** Every way `value` breaks `schema`, as `path: problem` lines (empty when it conforms). */
export function schemaProblems(value: unknown, schema: Schema, path = ''): string[] {
  const at = path || '.';
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [`${at}: not a string`];
      if (schema.enum && !schema.enum.includes(value)) return [`${at}: '${value}' not in ${schema.enum.join('|')}`];
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) return [`${at}: '${value}' does not match ${schema.pattern}`];
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: not a boolean`];
    case 'array':
      if (!Array.isArray(value)) return [`${at}: not an array`];
      return value.flatMap((item, i) => schemaProblems(item, schema.items!, `${path}[${i}]`));
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: not an object`];
      const record = value as Record<string, unknown>;
      const missing = (schema.required ?? []).filter((key) => !(key in record)).map((key) => `${path}.${key}: required`);
      const fields = Object.entries(record).flatMap(([key, field]) => {
        const sub = schema.properties?.[key];
        return sub === undefined ? [`${path}.${key}: unknown field`] : schemaProblems(field, sub, `${path}.${key}`);
      });
      return [...missing, ...fields];
    }
  }
}

/** Problems of one parsed Flux document, checked against the schema of its kind. */
export function fluxDocumentProblems(doc: unknown): string[] {
  const kind = (doc as { kind?: unknown } | null)?.kind;
  if (kind === 'OCIRepository') return schemaProblems(doc, OCI_REPOSITORY_V1);
  if (kind === 'Kustomization') return schemaProblems(doc, KUSTOMIZATION_V1);
  return [`kind ${String(kind)} is neither OCIRepository nor Kustomization`];
}
