import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsCredentials, parseIni } from '../../src/registry/providers/aws.js';

describe('AWS credentials', () => {
  it('come from the environment first, else from the profile in the shared credentials file', async () => {
    expect(await awsCredentials({ AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S', AWS_SESSION_TOKEN: 'T' }))
      .toEqual({ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' });
    const dir = mkdtempSync(join(tmpdir(), 'aws-'));
    const file = join(dir, 'credentials');
    writeFileSync(file, '# comment\n[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[ci]\naws_access_key_id=C\naws_secret_access_key=CS\naws_session_token = CT\n');
    expect(await awsCredentials({ AWS_SHARED_CREDENTIALS_FILE: file })).toEqual({ accessKeyId: 'D', secretAccessKey: 'DS', sessionToken: undefined });
    expect(await awsCredentials({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'ci' })).toEqual({ accessKeyId: 'C', secretAccessKey: 'CS', sessionToken: 'CT' });
    await expect(awsCredentials({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'nope' })).rejects.toMatchObject({ code: 'PROVIDER_CREDENTIALS_MISSING', kind: 'auth' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses profile sections of the config-file form too', () => {
    expect(parseIni('[profile dev]\nregion = eu-west-1\n; x\n')).toEqual({ dev: { region: 'eu-west-1' } });
  });
});
