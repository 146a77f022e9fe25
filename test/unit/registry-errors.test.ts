import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '../../src/registry/http.js';
import { errorEntries, responseError } from '../../src/registry/registry-errors.js';

function answer(status: number, body: string, contentType = 'application/json; charset=utf-8'): HttpResponse {
  return { status, headers: { 'content-type': contentType }, body: Readable.from([Buffer.from(body)]), url: 'http://registry.test/v2/app/manifests/v1' };
}

describe('responseError', () => {
  it('keeps every entry of the errors list: the message names the first and counts the others', async () => {
    const body = JSON.stringify({
      errors: [
        { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: 'sha256:aaa' },
        { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: 'sha256:bbb' },
      ],
    });
    const err = await responseError(answer(400, body), 'registry.test', 'manifest app:v1');
    expect(err.code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(err.kind).toBe('registry');
    expect(err.message).toBe('registry registry.test answered 400 MANIFEST_BLOB_UNKNOWN for manifest app:v1: blob unknown to registry (and 1 more error, listed with --debug)');
    expect(err.details).toEqual({
      status: 400,
      errors: [
        { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: 'sha256:aaa' },
        { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: 'sha256:bbb' },
      ],
    });
  });

  it('reads one entry as before: its code, the first line of its message, no count', async () => {
    const err = await responseError(answer(404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown\\nmore"}]}'), 'r.test', 'manifest app:v9');
    expect(err.message).toBe('registry r.test answered 404 MANIFEST_UNKNOWN for manifest app:v9: manifest unknown');
    expect(err.details).toEqual({ status: 404, errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown\nmore' }] });
  });

  it('falls back to the status line for a body that is not the OCI error JSON', async () => {
    const html = await responseError(answer(403, '<html>denied</html>', 'text/html'), 'r.test', 'tags of app');
    expect(html).toMatchObject({ code: 'DENIED', kind: 'auth', message: 'registry r.test answered 403 Forbidden for tags of app', details: undefined });
    const broken = await responseError(answer(502, '{"errors": ['), 'r.test', 'blob app@sha256:x');
    expect(broken).toMatchObject({ code: 'HTTP_502', message: 'registry r.test answered 502 Bad Gateway for blob app@sha256:x' });
  });
});

describe('errorEntries', () => {
  it('keeps entries whose fields are not strings, as empty entries, so the count stays true', () => {
    const entries = errorEntries(Buffer.from('{"errors":[{"code":7,"message":"m"},"junk",{"code":"DENIED"}]}'), 'application/json');
    expect(entries).toEqual([{ message: 'm' }, {}, { code: 'DENIED' }]);
    expect(errorEntries(Buffer.from('{"errors":"no"}'), 'application/json')).toEqual([]);
  });
});
