import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { parseManifest } from '../../src/artifact/manifest.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import { jsonNestsDeeperThan, MAX_JSON_NESTING } from '../../src/oci/json-nesting.js';
import { descriptorsIn } from '../../src/oci/referrers.js';
import { digestOf } from '../../src/ref/digest.js';

/** JSON from a registry or an artifact nested thousands deep: refused or dropped before anything walks it. */
const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}${close.repeat(depth)}`;

describe('jsonNestsDeeperThan', () => {
  it('counts arrays and objects, and stops at the limit', () => {
    expect(jsonNestsDeeperThan(nested(3), 3)).toBe(false);
    expect(jsonNestsDeeperThan(nested(4), 3)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":[{"c":1}]}}', 4)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":{"b":[{"c":[]}]}}', 4)).toBe(true);
    expect(jsonNestsDeeperThan('[[],[],[]]', 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonNestsDeeperThan(JSON.stringify({ a: '[[[[{{{{' }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify({ a: 'say \\"[[[[\\" and "{{{{"' }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(`["\\\\",${nested(2)}]`, 2)).toBe(true); // a string ending in a backslash
  });

  it('scans a 4 MiB document nested all the way down without recursing', () => {
    expect(jsonNestsDeeperThan(nested(2 * 1024 * 1024))).toBe(true);
  });
});

describe('parseManifest', () => {
  const config = { mediaType: MediaType.OciEmpty, digest: digestOf('{}'), size: 2 };
  const base = JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [] });

  it(`refuses a manifest nesting more than ${MAX_JSON_NESTING} levels, which \`-o yaml\` could not print`, () => {
    const deep = Buffer.from(`${base.slice(0, -1)},"x":${nested(5000)}}`);
    // The YAML printer recurses on every Node (JSON.stringify no longer does on Node 26).
    expect(() => toYaml(JSON.parse(deep.toString()))).toThrow(RangeError);
    expect(() => parseManifest(deep, MediaType.OciManifest)).toThrow(
      expect.objectContaining({ code: 'MANIFEST_INVALID', message: `the manifest is invalid: it nests arrays and objects more than ${MAX_JSON_NESTING} levels deep` }));
  });

  it('accepts ordinary nesting (platform features, annotations)', () => {
    const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ ...config, mediaType: MediaType.OciManifest, platform: { os: 'linux', architecture: 'amd64', features: ['sse4'] } }] };
    expect(parseManifest(Buffer.from(JSON.stringify(index)), MediaType.OciIndex)).toEqual(index);
    expect(parseManifest(Buffer.from(`${base.slice(0, -1)},"x":${nested(MAX_JSON_NESTING - 1)}}`), MediaType.OciManifest)).toBeTruthy();
  });
});

describe('descriptorsIn', () => {
  it('drops listing entries whose size, artifactType or annotations are not what a descriptor holds', () => {
    const good = { mediaType: MediaType.OciManifest, digest: digestOf('a'), size: 1, artifactType: 'application/a', annotations: { k: 'v' } };
    const deep = JSON.parse(nested(5000)) as unknown;
    const listing = [
      good,
      { ...good, annotations: { k: deep } },
      { ...good, artifactType: deep },
      { ...good, size: deep },
      { ...good, size: '1' },
    ];
    expect(descriptorsIn(listing)).toEqual([good]);
  });
});
