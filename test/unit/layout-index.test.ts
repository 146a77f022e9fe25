import { describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/oci/types.js';
import { addUntagged, findTagged, parseIndex, removeDigest, setTag, tagsOf } from '../../src/layout/index-file.js';
import { blobPath, REF_NAME } from '../../src/layout/paths.js';
import { manifestFields, referrerDescriptor, sniffMediaType } from '../../src/layout/referrers.js';
import { fallbackTag } from '../../src/oci/referrers.js';
import { MediaType } from '../../src/oci/mediatypes.js';

const d = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const entry = (n: number, tag?: string): Descriptor => ({
  mediaType: MediaType.OciManifest,
  digest: d(n),
  size: n,
  ...(tag !== undefined ? { annotations: { [REF_NAME]: tag } } : {}),
});

describe('index.json edits', () => {
  it('finds the last entry carrying a tag when several do', () => {
    const list = [entry(1, 'v1'), entry(2, 'v1'), entry(3, 'v2')];
    expect(findTagged(list, 'v1')?.digest).toBe(d(2));
    expect(findTagged(list, 'nope')).toBeUndefined();
  });

  it('moves a tag: every entry with it goes, the new one is appended, others stay untouched', () => {
    const other = { ...entry(3, 'v2'), platform: { os: 'linux' } };
    const list = [entry(1, 'v1'), other, entry(2, 'v1')];
    const next = setTag(list, entry(4), 'v1', new Set());
    expect(next).toEqual([other, entry(4, 'v1')]);
  });

  it('drops an untagged entry of the digest it tags, and keeps replaced referrers untagged once', () => {
    const list = [entry(4), entry(1, 'v1'), entry(1, 'v1'), entry(5, 'sig')];
    const next = setTag(list, entry(4), 'v1', new Set([d(1)]));
    expect(next).toEqual([entry(5, 'sig'), entry(1), entry(4, 'v1')]);
  });

  it('keeps other annotations of a replaced referrer entry', () => {
    const old: Descriptor = { ...entry(1), annotations: { [REF_NAME]: 'v1', note: 'x' } };
    expect(setTag([old], entry(2), 'v1', new Set([d(1)]))).toEqual([
      { ...entry(1), annotations: { note: 'x' } },
      entry(2, 'v1'),
    ]);
  });

  it('adds an untagged entry only for a digest not listed yet', () => {
    expect(addUntagged([entry(1, 'v1')], entry(1))).toBeUndefined();
    expect(addUntagged([entry(1, 'v1')], entry(2))).toEqual([entry(1, 'v1'), entry(2)]);
  });

  it('removes every entry of a digest and lists tags sorted and unique', () => {
    const list = [entry(1, 'b'), entry(2, 'a'), entry(1, 'c'), entry(3, 'a'), entry(4)];
    expect(removeDigest(list, d(1))).toEqual([entry(2, 'a'), entry(3, 'a'), entry(4)]);
    expect(tagsOf(list)).toEqual(['a', 'b', 'c']);
  });
});

describe('parseIndex', () => {
  it('keeps fields it does not know', () => {
    const text = JSON.stringify({ schemaVersion: 2, annotations: { a: 'b' }, manifests: [{ ...entry(1), platform: { os: 'linux' } }] });
    expect(parseIndex('/x', text)).toEqual(JSON.parse(text));
  });

  it.each([
    ['not JSON', '{', /is not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['schemaVersion 1', '{"schemaVersion":1,"manifests":[]}', /schemaVersion is not 2/],
    ['no manifests', '{"schemaVersion":2}', /no 'manifests' list/],
    ['a bad digest', JSON.stringify({ schemaVersion: 2, manifests: [{ ...entry(1), digest: 'sha256:../../etc/passwd' }] }), /manifests\[0\]/],
    ['a negative size', JSON.stringify({ schemaVersion: 2, manifests: [{ ...entry(1), size: -1 }] }), /manifests\[0\]/],
    // A tag that is not a string crashed list (tag.endsWith); nesting thousands deep crashed the next rewrite.
    ['a tag that is an object', JSON.stringify({ schemaVersion: 2, manifests: [{ ...entry(1), annotations: { [REF_NAME]: { v: 1 } } }] }), /manifests\[0\]\.annotations must map strings to strings/],
    ['a field nested 5,000 deep', `{"schemaVersion":2,"manifests":[],"x":${'['.repeat(5000)}${']'.repeat(5000)}}`, /nests arrays and objects more than 64 levels deep/],
  ])('refuses %s with LAYOUT_INVALID', (_what, text, message) => {
    try {
      parseIndex('/x', text);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'LAYOUT_INVALID', kind: 'usage' });
      expect((err as Error).message).toMatch(message);
    }
  });
});

describe('blob paths', () => {
  it('maps a digest to blobs/<alg>/<hex>', () => {
    expect(blobPath('/l', d(7))).toBe(`/l/blobs/sha256/${d(7).slice(7)}`);
  });

  it.each(['sha256:../../../etc/passwd', `sha256:${'a'.repeat(63)}/`, `../sha256:${'a'.repeat(64)}`, `md5:${'a'.repeat(32)}`, `sha256:${'A'.repeat(64)}`])(
    'refuses %s before it becomes a file name',
    (digest) => {
      expect(() => blobPath('/l', digest)).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    },
  );
});

describe('referrer helpers', () => {
  it('names the fallback tag <alg>-<hex>, the hex cut to 64 characters', () => {
    expect(fallbackTag(d(1))).toBe(`sha256-${d(1).slice(7)}`);
    expect(fallbackTag(`sha512:${'b'.repeat(128)}`)).toBe(`sha512-${'b'.repeat(64)}`);
  });

  it('reports artifactType, else the config media type, and the manifest annotations', () => {
    const withType = manifestFields(Buffer.from(JSON.stringify({ artifactType: 'a/b', config: { mediaType: 'c/d' }, annotations: { k: 'v' } })), 'm');
    expect(referrerDescriptor(MediaType.OciManifest, d(1), 1, withType)).toEqual({
      mediaType: MediaType.OciManifest, digest: d(1), size: 1, artifactType: 'a/b', annotations: { k: 'v' },
    });
    const legacy = manifestFields(Buffer.from(JSON.stringify({ config: { mediaType: MediaType.NotarySignature } })), 'm');
    expect(referrerDescriptor(MediaType.OciManifest, d(1), 1, legacy).artifactType).toBe(MediaType.NotarySignature);
  });

  it('sniffs the media type of a manifest that does not name one', () => {
    expect(sniffMediaType(manifestFields(Buffer.from('{"manifests":[]}'), 'm'))).toBe(MediaType.OciIndex);
    expect(sniffMediaType(manifestFields(Buffer.from('{"config":{}}'), 'm'))).toBe(MediaType.OciManifest);
    expect(sniffMediaType(manifestFields(Buffer.from(`{"mediaType":"${MediaType.DockerManifest}"}`), 'm'))).toBe(MediaType.DockerManifest);
    expect(() => manifestFields(Buffer.from('nope'), 'm')).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});
