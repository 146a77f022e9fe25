import { describe, it, expect } from 'vitest';
import {
  artifactMetadata,
  buildAnnotations,
  buildFluxConfig,
  buildFluxManifest,
  formatRfc3339,
  isGzipTarLayer,
  isImageIndex,
  parseAnnotationFlags,
  parseManifest,
  selectContentLayer,
} from '../../src/artifact/manifest.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import type { Descriptor, ImageManifest } from '../../src/oci/types.js';
import { OciError } from '../../src/errors.js';
import { digestOf } from '../../src/ref/digest.js';

const DIFF_ID = digestOf(Buffer.from('tar'));
const LAYER_DIGEST = digestOf(Buffer.from('tgz'));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OciError);
    return (err as OciError).code;
  }
  return undefined;
}

describe('buildFluxConfig', () => {
  it('is go-containerregistry ConfigFile JSON, a pure function of the diff_id', () => {
    const config = buildFluxConfig(DIFF_ID);
    expect(config.toString()).toBe(
      `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"",` +
        `"rootfs":{"type":"layers","diff_ids":["${DIFF_ID}"]},"config":{}}`,
    );
    expect(buildFluxConfig(DIFF_ID).equals(config)).toBe(true);
    expect(buildFluxConfig(digestOf(Buffer.from('other'))).equals(config)).toBe(false);
  });

  it('refuses a non-digest', () => {
    expect(codeOf(() => buildFluxConfig('sha256:xyz'))).toBe('DIGEST_INVALID');
  });
});

describe('buildFluxManifest', () => {
  it('writes compact JSON in Go field order with sorted annotations', () => {
    const config = buildFluxConfig(DIFF_ID);
    const manifest = buildFluxManifest({
      config: { mediaType: MediaType.FluxConfig, digest: digestOf(config), size: config.length },
      layer: { mediaType: MediaType.FluxContent, digest: LAYER_DIGEST, size: 1234 },
      annotations: { 'z.key': '1', 'org.opencontainers.image.source': 'https://github.com/org/repo', 'a.key': '2' },
    });
    expect(manifest.toString()).toBe(
      `{"schemaVersion":2,"mediaType":"${MediaType.OciManifest}",` +
        `"config":{"mediaType":"${MediaType.FluxConfig}","size":${config.length},"digest":"${digestOf(config)}"},` +
        `"layers":[{"mediaType":"${MediaType.FluxContent}","size":1234,"digest":"${LAYER_DIGEST}"}],` +
        `"annotations":{"a.key":"2","org.opencontainers.image.source":"https://github.com/org/repo","z.key":"1"}}`,
    );
    const parsed = parseManifest(manifest, MediaType.OciManifest);
    expect(isImageIndex(parsed)).toBe(false);
  });
});

describe('buildAnnotations', () => {
  it('sets created (RFC 3339, no fraction), source, revision; extras override like Flux', () => {
    expect(
      buildAnnotations({
        source: 'https://github.com/org/repo',
        revision: 'main@sha1:0123456789abcdef0123456789abcdef01234567',
        created: new Date('2024-05-06T07:08:09.123Z'),
        extra: { team: 'platform', 'org.opencontainers.image.source': 'override' },
      }),
    ).toEqual({
      'org.opencontainers.image.created': '2024-05-06T07:08:09Z',
      'org.opencontainers.image.source': 'override',
      'org.opencontainers.image.revision': 'main@sha1:0123456789abcdef0123456789abcdef01234567',
      team: 'platform',
    });
  });

  it('uses the epoch when reproducible and omits what is not given', () => {
    expect(buildAnnotations({ reproducible: true, created: new Date() })).toEqual({ 'org.opencontainers.image.created': '1970-01-01T00:00:00Z' });
  });

  it('defaults created to now', () => {
    const created = buildAnnotations({})['org.opencontainers.image.created']!;
    expect(created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(Date.parse(created) - Date.now())).toBeLessThan(5_000);
  });

  it('refuses an invalid date', () => {
    expect(codeOf(() => formatRfc3339(new Date('nope')))).toBe('DATE_INVALID');
  });
});

describe('parseAnnotationFlags', () => {
  it('splits at the first =, so values may hold =', () => {
    expect(parseAnnotationFlags(['a=b', 'url=https://x/?q=1&r=2', 'empty=', 'a=last'])).toEqual({
      a: 'last',
      url: 'https://x/?q=1&r=2',
      empty: '',
    });
  });

  it.each(['novalue', '=value', ''])('refuses %j', (flag) => {
    let err: unknown;
    try {
      parseAnnotationFlags([flag]);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ANNOTATION_INVALID', kind: 'usage' });
  });
});

const descriptor = (mediaType: string, data = mediaType): Descriptor => ({ mediaType, digest: digestOf(Buffer.from(data)), size: data.length });

function manifestWith(layers: Descriptor[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: descriptor(MediaType.FluxConfig), layers, ...extra }));
}

describe('parseManifest', () => {
  it('accepts an OCI manifest, a Docker manifest and an index', () => {
    expect(parseManifest(manifestWith([descriptor(MediaType.FluxContent)]))).toMatchObject({ layers: [{ mediaType: MediaType.FluxContent }] });
    const docker = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config: descriptor('c'), layers: [] }));
    expect(parseManifest(docker, `${MediaType.DockerManifest}; charset=utf-8`)).toMatchObject({ layers: [] });
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [descriptor(MediaType.OciManifest)] }));
    expect(isImageIndex(parseManifest(index, MediaType.OciIndex))).toBe(true);
    expect(isImageIndex(parseManifest(index))).toBe(true);
  });

  it.each([
    ['not JSON', Buffer.from('{nope')],
    ['an array', Buffer.from('[]')],
    ['schemaVersion 1', Buffer.from(JSON.stringify({ schemaVersion: 1, config: descriptor('c'), layers: [] }))],
    ['a bad digest', manifestWith([{ mediaType: MediaType.FluxContent, digest: 'sha256:abc', size: 1 }])],
    ['a negative size', manifestWith([{ mediaType: MediaType.FluxContent, digest: LAYER_DIGEST, size: -1 }])],
    ['a missing media type', manifestWith([{ digest: LAYER_DIGEST, size: 1 } as Descriptor])],
    ['no layers array', Buffer.from(JSON.stringify({ schemaVersion: 2, config: descriptor('c') }))],
    ['no config', Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [] }))],
    ['non-string annotations', manifestWith([], { annotations: { a: 1 } })],
    ['a non-manifest media type', manifestWith([], { mediaType: 'application/json' })],
  ])('refuses %s', (_what, bytes) => {
    expect(codeOf(() => parseManifest(bytes))).toBe('MANIFEST_INVALID');
  });

  it('refuses a body that contradicts its Content-Type', () => {
    expect(codeOf(() => parseManifest(manifestWith([]), MediaType.OciIndex))).toBe('MANIFEST_INVALID');
  });
});

describe('selectContentLayer', () => {
  const helm = descriptor(MediaType.HelmChart);
  const flux = descriptor(MediaType.FluxContent);
  const json = descriptor('application/json');
  const manifest = (layers: Descriptor[]): ImageManifest => ({ schemaVersion: 2, config: descriptor(MediaType.FluxConfig), layers });

  it('prefers the Flux content layer, else the first gzip tar layer', () => {
    expect(selectContentLayer(manifest([json, helm, flux]))).toBe(flux);
    expect(selectContentLayer(manifest([json, helm]))).toBe(helm);
  });

  it('honours an explicit media type or index', () => {
    expect(selectContentLayer(manifest([flux, json]), { mediaType: 'application/json' })).toBe(json);
    expect(selectContentLayer(manifest([flux, json]), { index: 1 })).toBe(json);
  });

  it('explains what is available when nothing fits', () => {
    let err: unknown;
    try {
      selectContentLayer(manifest([json]));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'LAYER_NOT_FOUND' });
    expect((err as OciError).message).toContain('application/json');
    expect((err as OciError).hint).toMatch(/--layer-media-type/);
    expect(codeOf(() => selectContentLayer(manifest([flux]), { mediaType: 'text/plain' }))).toBe('LAYER_NOT_FOUND');
    expect(codeOf(() => selectContentLayer(manifest([flux]), { index: 1 }))).toBe('LAYER_NOT_FOUND');
    expect(codeOf(() => selectContentLayer(manifest([flux]), { index: -1 }))).toBe('LAYER_NOT_FOUND');
    expect(codeOf(() => selectContentLayer(manifest([flux]), { index: 0, mediaType: MediaType.FluxContent }))).toBe('LAYER_CHOICE_CONFLICT');
    expect(() => selectContentLayer(manifest([flux]), { index: 1 })).toThrow(/the artifact has 1 layer$/);
    expect(() => selectContentLayer(manifest([flux, json]), { index: 2 })).toThrow(/the artifact has 2 layers$/);
  });

  it('tells which layers are extracted as gzip tars', () => {
    for (const type of [MediaType.FluxContent, MediaType.OciLayerTarGzip, MediaType.HelmChart, 'application/vnd.example.config.v1.tar+gzip']) {
      expect(isGzipTarLayer(type), type).toBe(true);
    }
    expect(isGzipTarLayer('application/json')).toBe(false);
    expect(isGzipTarLayer(MediaType.FluxConfig)).toBe(false);
  });

  it('refuses an artifact without layers', () => {
    expect(codeOf(() => selectContentLayer(manifest([])))).toBe('NO_LAYERS');
  });
});

describe('artifactMetadata', () => {
  it('reads source, revision, created and keeps every annotation', () => {
    const annotations = {
      'org.opencontainers.image.source': 'https://github.com/org/repo',
      'org.opencontainers.image.revision': 'v1.0.0@sha1:abc',
      'org.opencontainers.image.created': '2024-01-01T00:00:00Z',
      team: 'platform',
    };
    expect(artifactMetadata({ schemaVersion: 2, config: descriptor('c'), layers: [], annotations })).toEqual({
      source: 'https://github.com/org/repo',
      revision: 'v1.0.0@sha1:abc',
      created: '2024-01-01T00:00:00Z',
      annotations,
    });
    expect(artifactMetadata({ schemaVersion: 2, config: descriptor('c'), layers: [] })).toEqual({ annotations: {} });
  });
});
