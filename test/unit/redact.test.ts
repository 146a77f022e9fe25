import { describe, expect, it } from 'vitest';
import { redactHeaders, redactUrl } from '../../src/registry/redact.js';

describe('redaction', () => {
  it('hides signed-URL secrets and userinfo but keeps the rest', () => {
    const out = redactUrl('https://u:p@s3.example/bucket/blob?X-Amz-Signature=abc&X-Amz-Credential=def&partNumber=2&access_token=t');
    expect(out).not.toMatch(/abc|def|=t\b|u:p/);
    expect(out).toContain('partNumber=2');
    expect(out).toContain('/bucket/blob');
  });

  it('hides Authorization and cookies but keeps the scheme word', () => {
    const out = redactHeaders({ Authorization: 'Bearer sekrit', cookie: 'session=s3cr3t', accept: 'x', location: 'https://h/p?sig=zzz' });
    expect(out).toEqual({ Authorization: 'Bearer REDACTED', cookie: 'REDACTED', accept: 'x', location: 'https://h/p?sig=REDACTED' });
    expect(redactHeaders({ authorization: 'rawtokenwithoutscheme' })).toEqual({ authorization: 'REDACTED' });
    expect(redactHeaders({ 'set-cookie': 'a=b; Path=/' })).toEqual({ 'set-cookie': 'REDACTED' });
  });
});
