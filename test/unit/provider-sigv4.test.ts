import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { amzDate, signV4, uriEncode } from '../../src/registry/providers/sigv4.js';

/** The AWS Signature Version 4 test suite's example credentials and time. */
const SUITE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_DATE = new Date('2015-08-30T12:36:00Z');

function suite(url: string) {
  return signV4({ method: 'GET', url: new URL(url), headers: {}, region: 'us-east-1', service: 'service', date: SUITE_DATE }, SUITE);
}

describe('SigV4', () => {
  it("matches AWS's published get-vanilla vector", () => {
    const signed = suite('https://example.amazonaws.com/');
    expect(signed.canonicalRequest).toBe([
      'GET', '/', '', 'host:example.amazonaws.com', 'x-amz-date:20150830T123600Z', '', 'host;x-amz-date',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ].join('\n'));
    expect(signed.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, ' +
        'Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it("matches AWS's get-vanilla-query-order-key-case vector (query sorted before signing)", () => {
    expect(suite('https://example.amazonaws.com/?Param2=value2&Param1=value1').signature)
      .toBe('b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500');
  });

  it('signs the session token and the body', () => {
    const base = { method: 'POST', url: new URL('https://api.ecr.eu-west-1.amazonaws.com/'), headers: { 'X-Amz-Target': 'T' }, region: 'eu-west-1', service: 'ecr', date: SUITE_DATE };
    const a = signV4({ ...base, body: '{}' }, { ...SUITE, sessionToken: 'session' });
    expect(a.headers['x-amz-security-token']).toBe('session');
    expect(a.headers.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token;x-amz-target,');
    expect(a.canonicalRequest.endsWith(createHash('sha256').update('{}').digest('hex'))).toBe(true);
    expect(signV4({ ...base, body: '{ }' }, SUITE).signature).not.toBe(signV4({ ...base, body: '{}' }, SUITE).signature);
  });

  it('encodes as RFC 3986 and formats the date', () => {
    expect(uriEncode("a b*'()!~/")).toBe('a%20b%2A%27%28%29%21~%2F');
    expect(amzDate(new Date('2024-01-02T03:04:05.678Z'))).toBe('20240102T030405Z');
  });
});
