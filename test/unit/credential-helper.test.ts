import { describe, expect, it } from 'vitest';
import { helperGet, helperMessage } from '../../src/registry/credential-helper.js';
import { createCredentialHelper } from '../helpers/credential-helper.js';

const CANARY = 'canary-Pw-7f3a91c2e5b84d60';

describe('helperGet', () => {
  it('returns undefined from get when the helper says it holds nothing', async () => {
    const helper = createCredentialHelper('none');
    expect(await helperGet('none', 'r.io', { PATH: helper.path })).toBeUndefined();
  });

  it('refuses a helper name that could be a path', async () => {
    await expect(helperGet('../evil', 'r.io', {})).rejects.toMatchObject({ code: 'CREDENTIAL_HELPER_INVALID' });
  });
});

describe('helperMessage', () => {
  it('keeps the first line, replaces known secrets and token-like runs, and caps the length', () => {
    expect(helperMessage(`\n  bad ${CANARY} here\nsecond line`, [CANARY])).toBe('bad REDACTED here');
    expect(helperMessage('ghp_abcdefghijklmnopqrstuvwxyz0123456789 rejected')).toBe('REDACTED rejected');
    expect(helperMessage('error: the keychain service org.freedesktop.secrets is down')).toContain('org.freedesktop.secrets');
    expect(helperMessage('x'.repeat(500)).length).toBeLessThanOrEqual(201);
  });
});
