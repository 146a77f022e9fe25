import type { Stats } from 'node:fs';
import { NotRegularFileError, replaceableTarget, writeFileAtomic } from '../atomic-write.js';
import { OciError, usageError } from '../errors.js';
import { MediaType } from '../oci/mediatypes.js';

/**
 * What Flux needs to deploy a pushed artifact (`push --emit-flux FILE`, `-o flux`): an `OCIRepository`
 * (source.toolkit.fluxcd.io/v1) pinned to the pushed digest and, with a path, a `Kustomization`
 * (kustomize.toolkit.fluxcd.io/v1) applying that path of it. Field names, types, enums and patterns follow
 * source-controller's api/v1 ocirepository_types.go and ociverification_types.go and kustomize-controller's
 * api/v1 kustomization_types.go.
 *
 * The YAML is the same bytes for the same input: keys in a fixed order, every string double-quoted (a name such as
 * `on` or `yes` stays a string for YAML 1.1 readers like kubectl's, and no value can start a new key or document),
 * and comments hold only fixed text and names already checked as DNS-1123.
 */

/** How the artifact was signed, as far as Flux's `spec.verify` needs to know. */
export type FluxVerification =
  /** cosign with a key pair: Flux needs the public key in a Secret the user creates. */
  | { kind: 'cosign-key' }
  /** cosign keyless: the certificate identity and issuer the signature was made for (matched exactly). */
  | { kind: 'cosign-keyless'; issuer: string; subject: string; trustedRoot: boolean };

export interface FluxSource {
  /** metadata.name of both documents (ops/support/flux-fields.ts). */
  name: string;
  namespace: string;
  /** `host/repository`, without scheme, tag or digest. */
  repository: string;
  digest: string;
  /** A Go duration as Flux's CRDs accept it (checkFluxInterval). */
  interval: string;
  /** Registry credentials provider; 'generic' is Flux's default and is left out. */
  provider?: string;
  verify?: FluxVerification;
  /** The content layer's media type, when it is not Flux's (a layerSelector is then written). */
  layerMediaType?: string;
  /** The registry was reached over plain HTTP. */
  insecure?: boolean;
  /** A path inside the artifact: a Kustomization applying it is written too. */
  kustomizationPath?: string;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A Go regular expression matching exactly `text` (regexp.QuoteMeta, anchored). */
function exactly(text: string): string {
  return `^${text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')}$`;
}

/** The documents for `sources`, in order: each OCIRepository, followed by its Kustomization when it has a path. */
export async function renderFluxDocuments(sources: readonly FluxSource[]): Promise<string> {
  const { Document } = await import('yaml');
  const seen = new Set<string>();
  const documents: string[] = [];
  for (const source of sources) {
    const id = `${source.namespace}/${source.name}`;
    if (seen.has(id)) throw usageError('FLAG_CONFLICT', `two Flux objects would be named ${id}`, 'give each artifact its own name (flux: { name: ... } or --flux-name)');
    seen.add(id);
    for (const [value, comments] of fluxObjects(source)) {
      const doc = new Document(value);
      for (const [path, comment] of comments) {
        const pair = (doc.getIn(path.slice(0, -1), true) as { items: Array<{ key: { value: unknown; commentBefore?: string } }> }).items
          .find((item) => item.key.value === path.at(-1));
        if (pair !== undefined) pair.key.commentBefore = comment;
      }
      documents.push(`---\n${doc.toString({ defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 })}`);
    }
  }
  return documents.join('');
}

type Comments = Array<[string[], string]>;

function fluxObjects(source: FluxSource): Array<[object, Comments]> {
  // Checked where they come from (reference grammar, media type flags); a certificate's identity is checked here.
  for (const value of [source.repository, source.digest, source.layerMediaType ?? '']) {
    if (CONTROL.test(value)) throw new OciError('INTERNAL', 'a value for the Flux manifests holds a control character');
  }
  if (source.verify?.kind === 'cosign-keyless' && CONTROL.test(source.verify.issuer + source.verify.subject)) {
    throw new OciError('CERT_INVALID', 'the signing certificate names an identity with control characters: spec.verify cannot match it', { kind: 'usage' });
  }
  const metadata = { name: source.name, namespace: source.namespace };
  const comments: Comments = [];
  const spec: Record<string, unknown> = {
    url: `oci://${source.repository}`,
    ref: { digest: source.digest },
    interval: source.interval,
  };
  if (source.provider !== undefined && source.provider !== 'generic') spec.provider = source.provider;
  if (source.layerMediaType !== undefined && source.layerMediaType !== MediaType.FluxContent) {
    spec.layerSelector = { mediaType: source.layerMediaType, operation: 'extract' };
  }
  if (source.insecure) spec.insecure = true;
  const verify = source.verify;
  if (verify?.kind === 'cosign-key') {
    const secret = `${source.name}-cosign-pub`;
    spec.verify = { provider: 'cosign', secretRef: { name: secret } };
    comments.push([['spec', 'verify', 'secretRef'], ` Create this Secret with the cosign public key before applying:\n kubectl -n ${source.namespace} create secret generic ${secret} --from-file=cosign.pub=cosign.pub`]);
  } else if (verify?.kind === 'cosign-keyless') {
    const keyless: Record<string, unknown> = { provider: 'cosign', matchOIDCIdentity: [{ issuer: exactly(verify.issuer), subject: exactly(verify.subject) }] };
    if (verify.trustedRoot) {
      const secret = `${source.name}-trusted-root`;
      keyless.trustedRootSecretRef = { name: secret };
      comments.push([['spec', 'verify', 'trustedRootSecretRef'], ` Signed against a private Sigstore: create this Secret before applying:\n kubectl -n ${source.namespace} create secret generic ${secret} --from-file=trusted_root.json`]);
    }
    spec.verify = keyless;
  }
  const objects: Array<[object, Comments]> = [[{ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', metadata, spec }, comments]];
  if (source.kustomizationPath !== undefined) {
    objects.push([{
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata,
      spec: { interval: source.interval, sourceRef: { kind: 'OCIRepository', name: source.name }, path: source.kustomizationPath, prune: true },
    }, []]);
  }
  return objects;
}

/**
 * Write `text` to `path` in one rename (a reader sees the old file or the new one), replacing only a regular file:
 * a directory, link, device or pipe at `path` is refused and left as it is. A replaced file keeps its mode.
 */
export async function writeFluxFile(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, text, { mode: 0o644, keepMode: true, regularFileOnly: true }).catch((err: unknown) => {
    throw fluxFileError(path, err);
  });
}

/** Refuse a target that is not a regular file (also before a push, so a push is not made for nothing). */
export async function checkFluxTarget(path: string): Promise<Stats | undefined> {
  return replaceableTarget(path).catch((err: unknown) => {
    throw fluxFileError(path, err);
  });
}

function fluxFileError(path: string, err: unknown): OciError {
  if (err instanceof NotRegularFileError) {
    return usageError('PATH_NOT_REGULAR', `--emit-flux ${path} exists and is not a regular file`, 'give a path to a new or regular file; nothing was written');
  }
  return usageError('FILE_UNWRITABLE', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'give --emit-flux a writable file path');
}
