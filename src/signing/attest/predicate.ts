/**
 * Attestation predicates as cosign takes them: `--type` names (slsaprovenance, spdx, cyclonedx, ...) mapped to
 * predicate type URIs, and the predicate file read into the JSON the in-toto statement carries.
 */
import { readFileSync } from 'node:fs';
import { OciError, usageError } from '../../errors.js';

/** cosign's `--type` names and the predicate types they stand for. */
export const PREDICATE_TYPES: Readonly<Record<string, string>> = {
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
  custom: 'https://cosign.sigstore.dev/attestation/v1',
};

export const SLSA_PROVENANCE_V1 = PREDICATE_TYPES.slsaprovenance1!;

const MAX_PREDICATE_BYTES = 16 * 1024 * 1024;

/** The predicate type URI for a `--type` value: a cosign name, or a URI given as it is. */
export function predicateTypeOf(type: string): string {
  const known = PREDICATE_TYPES[type];
  if (known) return known;
  if (/^[a-z][a-z0-9+.-]*:\S+$/i.test(type)) return type;
  throw usageError('FLAG_INVALID', `unknown attestation type '${type}'`,
    `use one of ${Object.keys(PREDICATE_TYPES).join(', ')}, or a predicate type URI`);
}

/**
 * The predicate for the statement, from the file's bytes: JSON for every type, except that `custom` wraps the
 * text as cosign does ({Data, Timestamp}) and `spdx` keeps a tag-value document as a string.
 */
export function predicateFromBytes(type: string, bytes: Buffer, path: string, now = new Date()): unknown {
  const text = bytes.toString('utf8');
  if (type === 'custom') return { Data: text, Timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z') };
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (type === 'spdx') return text;
    throw usageError('PREDICATE_INVALID', `${path} is not JSON; a ${type} predicate must be a JSON document`, 'pass the predicate as a JSON file, or use --type custom for any text');
  }
}

export function readPredicateFile(type: string, path: string, now?: Date): unknown {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new OciError('FILE_UNREADABLE', `cannot read predicate ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { kind: 'usage', cause: err });
  }
  if (bytes.length > MAX_PREDICATE_BYTES) throw usageError('PREDICATE_INVALID', `${path} is larger than ${MAX_PREDICATE_BYTES / 1024 / 1024} MiB`);
  return predicateFromBytes(type, bytes, path, now);
}
