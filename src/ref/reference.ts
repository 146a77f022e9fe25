import { usageError } from '../errors.js';
import { parseDigest } from './digest.js';

/**
 * Pure parsing of artifact references:
 *   oci://<host>[:port]/<repo>[:tag][@sha256:<hex>]   (a registry, Docker reference grammar, as Flux parses it)
 *   oci-layout://<path>[:tag][@sha256:<hex>]          (an OCI image layout on disk)
 */
export interface RegistryReference {
  kind: 'registry';
  /** Registry as the user named it, normalised (`docker.io` for Docker Hub). Used for credentials and display. */
  registry: string;
  /** host[:port] to connect to (`registry-1.docker.io` for Docker Hub). */
  endpoint: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export interface LayoutReference {
  kind: 'layout';
  /** Path of the layout directory as given (relative or absolute). */
  path: string;
  tag?: string;
  digest?: string;
}

export type ArtifactReference = RegistryReference | LayoutReference;

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';
const DEFAULT_TAG = 'latest';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const MAX_NAME_LENGTH = 255;

function invalid(input: string, why: string): never {
  throw usageError('REFERENCE_INVALID', `invalid reference '${withoutUserinfo(input)}': ${why}`,
    'write it as oci://<host>/<repository>[:tag][@sha256:<digest>]');
}

/** What follows the `@` of a digest: a digest algorithm and a colon, and no further `/` or `@`. */
const DIGEST_AFTER_AT = /^sha(?:256|384|512):[^/@]*$/i;

/**
 * Where the `user:password@` typed into a reference ends (the index of its `@` after the scheme), or -1. The
 * reference grammar allows one `@`, before a digest at the very end, so any other `@` ends a userinfo: one with a
 * `/` after it (`alice:pa/ss@host/repo`), one followed by another `@` (`alice:pa@ss@host`), or one in a reference
 * with no `/` before it that no digest follows (`alice:pass@host`). The last such `@` counts, so a password holding
 * `/` or `@` is never split into a "host" that would be shown.
 */
function userinfoEnd(rest: string): number {
  let end = -1;
  for (let at = rest.indexOf('@'); at >= 0; at = rest.indexOf('@', at + 1)) {
    const after = rest.slice(at + 1);
    const beforeSlash = !rest.slice(0, at).includes('/');
    if (after.includes('/') || after.includes('@') || (beforeSlash && !DIGEST_AFTER_AT.test(after))) end = at;
  }
  return end;
}

function schemeOf(input: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\//i.exec(input)?.[0];
}

function hasUserinfo(input: string): boolean {
  const scheme = schemeOf(input);
  return scheme !== undefined && userinfoEnd(input.slice(scheme.length)) >= 0;
}

/** The input as it may be shown back: credentials typed into it are never echoed, not even in part. */
function withoutUserinfo(input: string): string {
  const scheme = schemeOf(input);
  if (scheme === undefined) return input;
  const rest = input.slice(scheme.length);
  const end = userinfoEnd(rest);
  return end < 0 ? input : `${scheme}***${rest.slice(end)}`;
}

/** Parse any accepted reference form. */
export function parseReference(input: string): ArtifactReference {
  if (input.startsWith('oci-layout://')) return parseLayoutReference(input);
  return parseRegistryReference(input);
}

export function parseRegistryReference(input: string): RegistryReference {
  if (!input.startsWith('oci://')) {
    invalid(input, "it must start with 'oci://'");
  }
  if (hasUserinfo(input)) {
    throw usageError('REFERENCE_INVALID', `invalid reference '${withoutUserinfo(input)}': credentials do not belong in a reference`,
      "pass them with --creds, or store them with 'oci-artifact login <host>'");
  }
  let rest = input.slice('oci://'.length);
  if (rest === '') invalid(input, 'it names no repository');

  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const raw = rest.slice(at + 1);
    try {
      digest = parseDigest(raw).digest;
    } catch (err) {
      invalid(input, (err as Error).message);
    }
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      invalid(input, `tag '${tag}' is not valid (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')`);
    }
  }

  let registry = DOCKER_HUB;
  let path = rest;
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : rest;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    checkHost(input, first);
    // Host names are case-insensitive (repository paths are not): one spelling for every host comparison after.
    registry = first.toLowerCase();
    path = rest.slice(slash + 1);
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_ENDPOINT) registry = DOCKER_HUB;
  if (path === '') invalid(input, 'it names no repository');
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;

  for (const component of path.split('/')) {
    if (component !== component.toLowerCase()) {
      invalid(input, `repository '${path}' must be lower-case`);
    }
    if (!PATH_COMPONENT.test(component)) {
      invalid(input, `repository component '${component}' is not valid (lower-case letters, digits, and '.', '_', '__' or '-' between them)`);
    }
  }
  if (registry.length + 1 + path.length > MAX_NAME_LENGTH) {
    invalid(input, `the name is longer than ${MAX_NAME_LENGTH} characters`);
  }

  const endpoint = registry === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : registry;
  const ref: RegistryReference = { kind: 'registry', registry, endpoint, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

function checkHost(input: string, host: string): void {
  let name = host;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) invalid(input, `registry host '${host}' has an unclosed '['`);
    const ip6 = host.slice(1, end);
    if (!/^[0-9a-fA-F:.]+$/.test(ip6) || !ip6.includes(':')) invalid(input, `registry host '${host}' is not a valid IPv6 address`);
    const after = host.slice(end + 1);
    if (after !== '' && !after.startsWith(':')) invalid(input, `registry host '${host}' is not valid`);
    port = after === '' ? undefined : after.slice(1);
    name = '';
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) {
      name = host.slice(0, colon);
      port = host.slice(colon + 1);
    }
  }
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535 || Number(port) === 0)) {
    invalid(input, `registry port '${port}' is not a number from 1 to 65535`);
  }
  if (name !== '' && !name.split('.').every((label) => HOST_LABEL.test(label))) {
    invalid(input, `registry host '${name}' is not a valid host name`);
  }
}

export function parseLayoutReference(input: string): LayoutReference {
  let rest = input.slice('oci-layout://'.length);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0 && at > rest.lastIndexOf('/')) {
    try {
      digest = parseDigest(rest.slice(at + 1)).digest;
    } catch (err) {
      throw usageError('REFERENCE_INVALID', `invalid reference '${input}': ${(err as Error).message}`);
    }
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw usageError('REFERENCE_INVALID', `invalid reference '${input}': tag '${tag}' is not valid`);
    }
  }
  if (rest === '') {
    throw usageError('REFERENCE_INVALID', `invalid reference '${input}': it names no layout directory`,
      'write it as oci-layout://<path>[:tag][@sha256:<digest>]');
  }
  const ref: LayoutReference = { kind: 'layout', path: rest };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** What to ask the repository for: the digest when pinned, else the tag, else `latest`. */
export function manifestReference(ref: ArtifactReference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

/** The tag to write under when pushing; `latest` when none is given. */
export function tagOf(ref: ArtifactReference): string {
  return ref.tag ?? DEFAULT_TAG;
}

/** Repository part without tag or digest, e.g. `localhost:5000/app` or `oci-layout://./store`. */
export function repositoryName(ref: ArtifactReference): string {
  return ref.kind === 'registry' ? `${ref.registry}/${ref.repository}` : `oci-layout://${ref.path}`;
}

export function formatReference(ref: ArtifactReference): string {
  const base = ref.kind === 'registry' ? `oci://${ref.registry}/${ref.repository}` : `oci-layout://${ref.path}`;
  return base + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** The same repository with another tag/digest. */
export function withVersion<T extends ArtifactReference>(ref: T, version: { tag?: string; digest?: string }): T {
  const copy = { ...ref };
  delete copy.tag;
  delete copy.digest;
  if (version.tag !== undefined) copy.tag = version.tag;
  if (version.digest !== undefined) copy.digest = version.digest;
  return copy;
}

/** Check a bare tag (e.g. from `--tag`). */
export function checkTag(tag: string): string {
  if (!TAG.test(tag)) {
    throw usageError('TAG_INVALID', `invalid tag '${tag}': use letters, digits, '_', '.', '-' (at most 128, not starting with '.' or '-')`);
  }
  return tag;
}
