import { createHash, createVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsCredentials, parseIni } from '../../src/registry/providers/aws.js';
import { serviceAccountJwt } from '../../src/registry/providers/gcp.js';
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

describe('AWS credentials', () => {
  it('come from the environment first, else from the profile in the shared credentials file', async () => {
    expect(await awsCredentials({ AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S', AWS_SESSION_TOKEN: 'T' }))
      .toEqual({ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' });
    const file = join(mkdtempSync(join(tmpdir(), 'aws-')), 'credentials');
    writeFileSync(file, '# comment\n[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[ci]\naws_access_key_id=C\naws_secret_access_key=CS\naws_session_token = CT\n');
    expect(await awsCredentials({ AWS_SHARED_CREDENTIALS_FILE: file })).toEqual({ accessKeyId: 'D', secretAccessKey: 'DS', sessionToken: undefined });
    expect(await awsCredentials({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'ci' })).toEqual({ accessKeyId: 'C', secretAccessKey: 'CS', sessionToken: 'CT' });
    await expect(awsCredentials({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'nope' })).rejects.toMatchObject({ code: 'PROVIDER_CREDENTIALS_MISSING', kind: 'auth' });
  });

  it('parses profile sections of the config-file form too', () => {
    expect(parseIni('[profile dev]\nregion = eu-west-1\n; x\n')).toEqual({ dev: { region: 'eu-west-1' } });
  });
});

describe('GCP service-account JWT', () => {
  it('is an RS256 JWT for the token endpoint with the cloud-platform scope', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const jwt = serviceAccountJwt({ client_email: 'sa@p.iam.gserviceaccount.com', private_key: pem, private_key_id: 'k1' }, 'https://oauth2.example/token', 1_700_000_000);
    const [h, c, s] = jwt.split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
    expect(JSON.parse(Buffer.from(c!, 'base64url').toString())).toEqual({
      iss: 'sa@p.iam.gserviceaccount.com', scope: 'https://www.googleapis.com/auth/cloud-platform', aud: 'https://oauth2.example/token', iat: 1_700_000_000, exp: 1_700_003_600,
    });
    expect(createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, Buffer.from(s!, 'base64url'))).toBe(true);
  });
});
