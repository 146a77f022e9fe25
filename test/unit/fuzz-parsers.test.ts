import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { OciError } from '../../src/errors.js';
import { parseManifest } from '../../src/artifact/manifest.js';
import { MediaType } from '../../src/oci/mediatypes.js';
import { formatReference, parseReference } from '../../src/ref/reference.js';
import { parseWWWAuthenticate } from '../../src/registry/challenge.js';
import { FUZZ } from '../helpers/fuzz.js';
import { writeReliabilitySection } from '../helpers/reliability-doc.js';

/**
 * Property-based fuzzing of the pure parsers: whatever the input, they return or throw an OciError (never a
 * TypeError or RangeError that would surface as "unexpected error"), and they do it quickly (see helpers/fuzz.ts).
 */

const tried = { inputs: 0, rejected: 0 };
afterAll(async () => {
  const line = `Parsers (references, WWW-Authenticate, manifests): ${tried.inputs} generated inputs (seed ${FUZZ.seed}), ` +
    `${tried.rejected} refused with an OciError, 0 other exceptions, none over its time bound.`;
  process.stdout.write(`\n${line}\n`);
  if (process.env.RELIABILITY_DOC === '1') await writeReliabilitySection('fuzz-parsers', line);
});

/** Run `fn`; only OciError may escape, and within `maxMs`. */
function survives<T>(fn: () => T, maxMs = 250): T | OciError {
  tried.inputs++;
  const started = performance.now();
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof OciError)) throw new Error(`not an OciError: ${(err as Error)?.stack ?? String(err)}`);
    tried.rejected++;
    return err;
  } finally {
    const took = performance.now() - started;
    if (took > maxMs) throw new Error(`took ${took.toFixed(0)} ms`);
  }
}

const referenceChars = fc.constantFrom(...'abcAZ09-_.:/@+ %\\\u0000\u00e9'.split(''), 'oci://', 'oci-layout://', 'sha256:', 'localhost', '[::1]', '..', '//');

/** Strings that look like references, with the grammar's pieces shuffled and broken. */
const referenceLike = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.array(referenceChars, { maxLength: 40 }).map((parts) => parts.join('')),
  fc.tuple(
    fc.constantFrom('oci://', 'oci://', 'OCI://', 'oci-layout://', ''),
    fc.constantFrom('ghcr.io', 'localhost:5000', '127.0.0.1:5000', '[::1]:5000', 'docker.io', 'Registry.IO', 'a:99999', ''),
    fc.array(fc.stringMatching(/^[a-z0-9._-]{0,12}$/), { maxLength: 5 }).map((parts) => parts.join('/')),
    fc.option(fc.stringMatching(/^[\w.-]{0,140}$/)),
    fc.option(fc.stringMatching(/^(sha256|sha512|md5):[0-9a-fA-F]{0,70}$/)),
  ).map(([scheme, host, repo, tag, digest]) => `${scheme}${host}/${repo}${tag === null ? '' : `:${tag}`}${digest === null ? '' : `@${digest}`}`),
);

describe('fuzz: references', () => {
  it('parse or fail with an OciError; a parsed reference formats to one that parses the same', () => {
    fc.assert(
      fc.property(referenceLike, (input) => {
        const parsed = survives(() => parseReference(input));
        if (parsed instanceof OciError) {
          expect(parsed.message.length).toBeGreaterThan(0);
          expect(parsed.message).not.toContain('\n');
          return;
        }
        const again = parseReference(formatReference(parsed));
        expect(formatReference(again)).toBe(formatReference(parsed));
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.runs(2000) },
    );
  });
});

const challengeLike = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.array(
    fc.oneof(
      fc.constantFrom('Bearer ', 'Basic ', 'bearer', 'Negotiate ', 'realm=', 'service=', 'scope=', '"', '\\', ',', ', ', '=', '==', ' ', '\t', 'error="invalid_token"'),
      fc.stringMatching(/^[\w:/.-]{0,20}$/),
    ),
    { maxLength: 60 },
  ).map((parts) => parts.join('')),
);

describe('fuzz: WWW-Authenticate', () => {
  it('never throws, returns well-formed challenges, and stays linear', () => {
    fc.assert(
      fc.property(challengeLike, (header) => {
        const challenges = survives(() => parseWWWAuthenticate(header), 50);
        if (challenges instanceof OciError) return;
        for (const c of challenges) {
          expect(c.scheme).toBe(c.scheme.toLowerCase());
          expect(c.scheme.length).toBeGreaterThan(0);
          for (const [name, value] of Object.entries(c.params)) {
            expect(name).toBe(name.toLowerCase());
            expect(typeof value).toBe('string');
          }
        }
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.runs(2000) },
    );
  });

  it('handles a long pathological header in bounded time', () => {
    const header = `Bearer ${'realm="\\"\\,,'.repeat(20_000)}`;
    survives(() => parseWWWAuthenticate(header), 1000);
  });
});

const digest = fc.stringMatching(/^sha256:[0-9a-f]{64}$/);
const descriptor = fc.record(
  {
    mediaType: fc.oneof(fc.constantFrom(MediaType.FluxContent, MediaType.FluxConfig, MediaType.OciLayerTarGzip, 'text/plain', ''), fc.string(), fc.integer()),
    digest: fc.oneof(digest, fc.string(), fc.constant(null)),
    size: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string(), fc.constant(-1)),
    annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.constant(null), fc.array(fc.string())),
  },
  { requiredKeys: [] },
);
const manifestObject = fc.record(
  {
    schemaVersion: fc.oneof(fc.constant(2), fc.integer(), fc.string()),
    mediaType: fc.oneof(fc.constantFrom(MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest), fc.string()),
    config: fc.oneof(descriptor, fc.constant(null), fc.string()),
    layers: fc.oneof(fc.array(descriptor, { maxLength: 4 }), fc.constant(null), fc.string(), fc.constant({})),
    manifests: fc.oneof(fc.array(descriptor, { maxLength: 3 }), fc.constant(null)),
    annotations: fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())), fc.constant(null)),
    subject: fc.oneof(descriptor, fc.constant(null)),
  },
  { requiredKeys: [] },
);
const manifestBytes = fc.oneof(
  manifestObject.map((m) => Buffer.from(JSON.stringify(m))),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.string().map((s) => Buffer.from(s)),
);

describe('fuzz: manifests', () => {
  it('parse or fail with an OciError', () => {
    fc.assert(
      fc.property(manifestBytes, fc.option(fc.constantFrom(MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, 'text/html', '')), (bytes, mediaType) => {
        survives(() => parseManifest(bytes, mediaType ?? undefined));
      }),
      { seed: FUZZ.seed, numRuns: FUZZ.runs(3000) },
    );
  });
});
