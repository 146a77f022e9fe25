import { usageError } from '../../errors.js';

/**
 * The values of Flux objects a user names (`--flux-*` flags, the `flux:` keys of oci-artifact.yaml), checked as
 * Kubernetes and Flux's CRDs check them, so a written manifest is never refused at `kubectl apply`. `what` names
 * the flag or key in the message.
 */
export const FLUX_DEFAULTS = { namespace: 'flux-system', interval: '5m' } as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** The pattern of `spec.interval` in both CRDs. */
const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * A Kubernetes name from a repository path's last segment (or an artifact's name): lower case, every run of other
 * characters one `-`, trimmed to 63 characters (a DNS-1123 label, valid as a name of every kind).
 */
export function fluxName(text: string): string {
  const last = text.split('/').pop() ?? '';
  const name = last.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 63).replace(/^-+|-+$/g, '');
  if (name === '') throw usageError('FLAG_INVALID', `cannot make a Kubernetes name from '${last}'`, 'name the Flux objects with --flux-name (or flux: { name } in oci-artifact.yaml)');
  return name;
}

/** metadata.name: a DNS-1123 subdomain (lower case letters, digits, '-' and '.', at most 253). */
export function checkFluxName(what: string, name: string): string {
  const ok = name.length <= 253 && name.split('.').every((part) => part.length <= 63 && DNS_LABEL.test(part));
  if (!ok) throw usageError('FLAG_INVALID', `${what} '${name}' is not a Kubernetes name`, "use lower case letters, digits, '-' and '.', e.g. web-prod");
  return name;
}

/** metadata.namespace: a DNS-1123 label. */
export function checkFluxNamespace(what: string, namespace: string): string {
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
    throw usageError('FLAG_INVALID', `${what} '${namespace}' is not a Kubernetes namespace`, "use lower case letters, digits and '-', e.g. flux-system");
  }
  return namespace;
}

export function checkFluxInterval(what: string, interval: string): string {
  if (!GO_DURATION.test(interval)) throw usageError('FLAG_INVALID', `${what} '${interval}' is not a Flux interval`, 'use a duration such as 30s, 5m or 1h30m');
  return interval;
}

/**
 * A path inside the artifact for the Kustomization, written as Flux's examples write it (`./apps/web`, `./` for
 * the root): relative, no `..`, no backslash, no control characters.
 */
export function checkFluxPath(what: string, path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (path.startsWith('/') || path.includes('\\') || CONTROL.test(path) || parts.includes('..')) {
    throw usageError('FLAG_INVALID', `${what} '${path.replace(CONTROL, '?')}' is not a path inside the artifact`, 'give a relative path without .., e.g. ./apps/web');
  }
  return `./${parts.join('/')}`;
}

