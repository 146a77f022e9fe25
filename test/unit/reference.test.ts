import { describe, expect, it } from 'vitest';
import { OciError } from '../../src/errors.js';
import { formatReference, manifestReference, parseReference, repositoryName, withVersion } from '../../src/ref/reference.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function errorOf(input: string): OciError {
  try {
    parseReference(input);
  } catch (err) {
    expect(err).toBeInstanceOf(OciError);
    return err as OciError;
  }
  throw new Error(`expected '${input}' to be rejected`);
}

describe('parseReference (registry)', () => {
  it.each([
    ['oci://ghcr.io/org/app:v1', { registry: 'ghcr.io', endpoint: 'ghcr.io', repository: 'org/app', tag: 'v1' }],
    ['oci://localhost:5000/app', { registry: 'localhost:5000', repository: 'app' }],
    ['oci://localhost/app:1.0', { registry: 'localhost', repository: 'app', tag: '1.0' }],
    ['oci://127.0.0.1:5000/a/b/c:x_y', { registry: '127.0.0.1:5000', repository: 'a/b/c', tag: 'x_y' }],
    ['oci://[::1]:5000/app:v1', { registry: '[::1]:5000', repository: 'app', tag: 'v1' }],
    ['oci://docker.io/nginx', { registry: 'docker.io', endpoint: 'registry-1.docker.io', repository: 'library/nginx' }],
    ['oci://nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' }],
    ['oci://org/app', { registry: 'docker.io', repository: 'org/app' }],
    ['oci://index.docker.io/org/app', { registry: 'docker.io', repository: 'org/app' }],
    [`oci://ghcr.io/org/app@${DIGEST}`, { repository: 'org/app', digest: DIGEST }],
    [`oci://ghcr.io/org/app:v1@${DIGEST}`, { tag: 'v1', digest: DIGEST }],
    ['oci://r.io/a__b/c-d/e.f:t', { repository: 'a__b/c-d/e.f', tag: 't' }],
    // Hosts as users type them: case-insensitive, so one lower-case spelling (the repository keeps its case rules).
    ['oci://LOCALHOST:5000/app:v1', { registry: 'localhost:5000', endpoint: 'localhost:5000', repository: 'app', tag: 'v1' }],
    ['oci://Vm:5000/app', { registry: 'vm:5000', endpoint: 'vm:5000', repository: 'app' }],
    ['oci://GHCR.io/org/app', { registry: 'ghcr.io', endpoint: 'ghcr.io', repository: 'org/app' }],
    ['oci://Index.Docker.IO/org/app', { registry: 'docker.io', endpoint: 'registry-1.docker.io', repository: 'org/app' }],
    ['oci://[::FFFF:7F00:1]:5000/app', { registry: '[::ffff:7f00:1]:5000', repository: 'app' }],
  ])('%s', (input, expected) => {
    expect(parseReference(input)).toMatchObject({ kind: 'registry', ...expected });
  });

  it('round-trips through formatReference', () => {
    for (const input of ['oci://ghcr.io/org/app:v1', `oci://localhost:5000/app:v1@${DIGEST}`, 'oci://docker.io/library/nginx']) {
      expect(formatReference(parseReference(input))).toBe(input);
    }
  });

  it.each([
    ['ghcr.io/org/app:v1', "must start with 'oci://'"],
    ['oci://', 'names no repository'],
    ['oci://ghcr.io/Org/app', 'must be lower-case'],
    ['oci://ghcr.io/org/app:-bad', "tag '-bad' is not valid"],
    ['oci://ghcr.io/org/app:.bad', 'is not valid'],
    [`oci://ghcr.io/org/app:${'x'.repeat(129)}`, 'is not valid'],
    ['oci://ghcr.io/org/app@sha256:abc', '64 lower-case hex'],
    [`oci://ghcr.io/org/app@md5:${'a'.repeat(32)}`, "algorithm 'md5'"],
    ['oci://ghcr.io/org//app', "component '' is not valid"],
    ['oci://ghcr.io/org/app-', "component 'app-' is not valid"],
    ['oci://ghcr.io:99999/app', 'port'],
    ['oci://bad_host.io/app', 'not a valid host name'],
    ['oci://ghcr.io/', 'names no repository'],
  ])('rejects %s', (input, why) => {
    const err = errorOf(input);
    expect(err.kind).toBe('usage');
    expect(err.code).toBe('REFERENCE_INVALID');
    expect(err.message).toContain(why);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it.each([
    'oci://alice:s3cret-pw@ghcr.io/org/app:v1',
    'oci://alice:s3cret-pw@ghcr.io',
    'oci://alice:s3cret-pw@localhost:5000/app',
    `oci://alice:s3cret-pw@ghcr.io/org/app@${DIGEST}`,
    'https://alice:s3cret-pw@ghcr.io/org/app',
  ])('never echoes credentials typed into %s', (input) => {
    const err = errorOf(input);
    expect(err.code).toBe('REFERENCE_INVALID');
    expect(`${err.message} ${err.hint}`).not.toContain('s3cret-pw');
    expect(err.message).toMatch(/'[a-z]+:\/\/\*\*\*@(ghcr\.io|localhost:5000)/);
  });

  // A password holding '/' or '@' (typed unencoded) must not be split into a "host" that is shown back.
  it.each([
    'oci://alice:s3cret/pw-part@ghcr.io/org/app:v1',
    'oci://alice:s3cret@pw-part@ghcr.io/org/app:v1',
    'oci://alice:s3cret@pw-part@ghcr.io',
    'oci://alice:s3cret/pw@part@ghcr.io/org/app',
    `oci://alice:s3cret/pw-part@ghcr.io/org/app@${DIGEST}`,
    'https://alice:s3cret@pw-part@ghcr.io/org/app',
  ])('echoes no part of a password with / or @ in %s', (input) => {
    const err = errorOf(input);
    expect(err.code).toBe('REFERENCE_INVALID');
    for (const part of ['s3cret', 'pw-part', 'part']) expect(`${err.message} ${err.hint}`).not.toContain(part);
    expect(err.message).toMatch(/'[a-z]+:\/\/\*\*\*@ghcr\.io/);
  });

  it('says where credentials go instead of blaming a digest', () => {
    const err = errorOf('oci://alice:s3cret-pw@ghcr.io/org/app:v1');
    expect(err.message).toBe("invalid reference 'oci://***@ghcr.io/org/app:v1': credentials do not belong in a reference");
    expect(err.hint).toContain('--creds');
    // A digest straight after the first name is still a digest, not userinfo.
    expect(parseReference(`oci://nginx@${DIGEST}`)).toMatchObject({ repository: 'library/nginx', digest: DIGEST });
  });

  it('rejects names over 255 characters', () => {
    expect(errorOf(`oci://r.io/${'a'.repeat(251)}`).message).toContain('longer than 255');
  });
});

describe('parseReference (layout)', () => {
  it('splits the tag at the last colon after the last slash', () => {
    expect(parseReference('oci-layout://./store:v1')).toEqual({ kind: 'layout', path: './store', tag: 'v1' });
    expect(parseReference('oci-layout:///abs/dir:with:colon/store')).toEqual({ kind: 'layout', path: '/abs/dir:with:colon/store' });
    expect(parseReference(`oci-layout://s@${DIGEST}`)).toEqual({ kind: 'layout', path: 's', digest: DIGEST });
  });

  it('rejects an empty path', () => {
    expect(errorOf('oci-layout://:v1').code).toBe('REFERENCE_INVALID');
  });
});

describe('helpers', () => {
  it('prefers the digest, then the tag, then latest', () => {
    const ref = parseReference('oci://r.io/app');
    expect(manifestReference(ref)).toBe('latest');
    expect(manifestReference(withVersion(ref, { tag: 'v2' }))).toBe('v2');
    expect(manifestReference(withVersion(ref, { tag: 'v2', digest: DIGEST }))).toBe(DIGEST);
    expect(repositoryName(ref)).toBe('r.io/app');
  });
});
