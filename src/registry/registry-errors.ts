import { STATUS_CODES } from 'node:http';
import { OciError, registryErrorCode, type ErrorCode } from '../errors.js';
import type { HttpResponse } from './http.js';
import { readAtMost } from './response-body.js';

/**
 * A registry's error answer as an OciError (OCI distribution spec, "Error Codes"): a 4xx/5xx body MAY be JSON of
 * the form `{"errors": [{"code", "message", "detail"}, ...]}`. The message names the first entry and counts the
 * others; every entry is kept in the error's `details` (printed by --debug), as a registry lists one entry per
 * problem (Distribution: one MANIFEST_BLOB_UNKNOWN per missing blob).
 */

/** One entry of a registry's `errors` list, as sent (`code` is a string when the registry follows the spec). */
export interface RegistryErrorEntry {
  code?: string;
  message?: string;
  detail?: unknown;
}

/** What `OciError.details` holds for a registry's error answer. */
export type RegistryErrorDetails = {
  status: number;
  errors: RegistryErrorEntry[];
};

/** Beyond any real error body; bounds what a hostile registry can make us read. */
const MAX_ERROR_BODY = 64 * 1024;

/** The code of an answer whose body names no listed code, by status; other statuses read `HTTP_<status>`. */
const STATUS_CODE_NAMES: Record<number, ErrorCode> = { 401: 'UNAUTHORIZED', 403: 'DENIED', 404: 'NOT_FOUND', 429: 'TOOMANYREQUESTS' };

/**
 * The OciError for an unexpected response: the registry's own error code and message when it sent the OCI error
 * JSON, else the status line. One line: `registry HOST answered 404 MANIFEST_UNKNOWN for manifest app:v1: ...`.
 */
export async function responseError(res: HttpResponse, host: string, what: string): Promise<OciError> {
  let entries: RegistryErrorEntry[] = [];
  try {
    const { bytes } = await readAtMost(res.body, MAX_ERROR_BODY);
    entries = errorEntries(bytes, res.headers['content-type']);
  } catch {
    // An unreadable body: the status line says enough.
  }
  const first = entries[0];
  const registryCode = first?.code;
  const registryMessage = first?.message?.split('\n')[0];
  const code = registryErrorCode(registryCode) ?? STATUS_CODE_NAMES[res.status] ?? `HTTP_${res.status}` as const;
  const statusText = registryCode ?? STATUS_CODES[res.status] ?? '';
  const more = entries.length > 1 ? ` (and ${entries.length - 1} more error${entries.length > 2 ? 's' : ''}, listed with --debug)` : '';
  const message = `registry ${host} answered ${res.status} ${statusText} for ${what}${registryMessage ? `: ${registryMessage}` : ''}${more}`;
  const auth = res.status === 401 || res.status === 403;
  const details: RegistryErrorDetails = { status: res.status, errors: entries };
  return new OciError(code, message, {
    kind: auth ? 'auth' : 'registry',
    hint: auth ? `check --creds, or run 'docker login ${host}'` : undefined,
    details: entries.length > 0 ? details : undefined,
  });
}

/** Every entry of a JSON error body; none for a body that is not JSON or has no `errors` list. */
export function errorEntries(bytes: Buffer, contentType: string | undefined): RegistryErrorEntry[] {
  if (!(contentType ?? '').includes('json')) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return [];
  }
  const list = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(list)) return [];
  return list.map((item: unknown) => {
    const entry: RegistryErrorEntry = {};
    if (item === null || typeof item !== 'object') return entry;
    const e = item as Record<string, unknown>;
    if (typeof e.code === 'string') entry.code = e.code;
    if (typeof e.message === 'string') entry.message = e.message;
    if (e.detail !== undefined) entry.detail = e.detail;
    return entry;
  });
}
