import semver from 'semver';
import { usageError } from '../../errors.js';
import { COSIGN_TAG_SUFFIXES } from '../../oci/referrers.js';

/**
 * Which tags `list` shows and in what order, as `flux list artifacts` decides it: cosign tags hidden, then the
 * regex, then the semver constraint (tags that are not versions dropped); sorted newest first.
 */
export interface TagFilterOptions {
  /** A semver range such as `>=1.0.0 <2.0.0`; Masterminds-style commas between comparators are accepted. */
  semver?: string;
  /** An unanchored regular expression, as Flux's `--filter-regex`. */
  regex?: string;
  /** Show cosign (`*.sig`, `*.att`, `*.sbom`) and referrers fallback (`sha256-<hex>`) tags too. */
  all?: boolean;
}

const REFERRERS_FALLBACK = /^sha256-[0-9a-f]{64}$/;

/** Tags written by signing tools rather than by people: Flux hides the cosign ones, and we hide referrer indexes too. */
export function isToolTag(tag: string): boolean {
  return COSIGN_TAG_SUFFIXES.some((suffix) => tag.endsWith(suffix)) || REFERRERS_FALLBACK.test(tag);
}

/** Check a `--filter-semver` value; returns the range normalised for node-semver. */
function parseSemverRange(range: string): semver.Range {
  const normalised = range.replace(/\s*,\s*/g, ' ').trim();
  try {
    if (normalised === '') throw new Error('empty');
    return new semver.Range(normalised);
  } catch {
    throw usageError('SEMVER_RANGE_INVALID', `invalid semver range '${range}'`, "use a range such as '>=1.0.0 <2.0.0' or '^1.2'");
  }
}

function parseTagRegex(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    const why = (err as Error).message.replace(/^Invalid regular expression: /, '');
    throw usageError('REGEX_INVALID', `invalid regular expression '${pattern}': ${why}`);
  }
}

/**
 * A tag read as a version the way Flux (Masterminds semver) reads it: a leading `v`, and `1` or `1.2` standing for
 * `1.0.0` / `1.2.0`. Undefined when the tag is not a version.
 */
export function tagVersion(tag: string): semver.SemVer | undefined {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$/.exec(tag);
  if (!match) return undefined;
  const [, major, minor = '0', patch = '0', rest = ''] = match;
  return semver.parse(`${major}.${minor}.${patch}${rest}`) ?? undefined;
}

/** The tags to list, in display order. */
export function selectTags(tags: readonly string[], options: TagFilterOptions = {}): string[] {
  const range = options.semver === undefined ? undefined : parseSemverRange(options.semver);
  const regex = options.regex === undefined ? undefined : parseTagRegex(options.regex);
  const kept = tags.filter((tag) => (options.all || !isToolTag(tag)) && (regex === undefined || regex.test(tag)));
  if (range === undefined) return [...new Set(kept)].sort(descending);

  const versioned = [...new Set(kept)]
    .map((tag) => ({ tag, version: tagVersion(tag) }))
    .filter((t): t is { tag: string; version: semver.SemVer } => t.version !== undefined && range.test(t.version));
  return versioned
    .sort((a, b) => semver.rcompare(a.version, b.version) || descending(a.tag, b.tag))
    .map((t) => t.tag);
}

/** Byte-wise descending, like Go's sort.Reverse(sort.StringSlice) in Flux. */
function descending(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

/**
 * `list --sort semver`: tags that read as versions first, newest version first; the others after them, in the
 * default order. (With --filter-semver, selectTags has already kept only versions, in this order.)
 */
export function sortBySemver(tags: readonly string[]): string[] {
  const read = tags.map((tag) => ({ tag, version: tagVersion(tag) }));
  const versions = read.filter((t): t is { tag: string; version: semver.SemVer } => t.version !== undefined)
    .sort((a, b) => semver.rcompare(a.version, b.version) || descending(a.tag, b.tag));
  return [...versions.map((t) => t.tag), ...read.filter((t) => t.version === undefined).map((t) => t.tag)];
}
