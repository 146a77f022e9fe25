import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findAuthKey, readConfigFile, writeConfigFile } from '../../src/registry/credential-store.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('findAuthKey', () => {
  it('picks the most specific namespace entry for the repository', async () => {
    const config = { auths: { 'quay.io': {}, 'quay.io/org': {}, 'quay.io/org/app': {}, 'quay.io/other': {} } };
    expect(findAuthKey(config, 'quay.io', 'org/app')).toBe('quay.io/org/app');
    expect(findAuthKey(config, 'quay.io', 'org/app2')).toBe('quay.io/org');
    expect(findAuthKey(config, 'quay.io', 'third')).toBe('quay.io');
    expect(findAuthKey({ auths: { 'https://index.docker.io/v1/': {} } }, 'docker.io', 'library/x')).toBe('https://index.docker.io/v1/');
    // Host names compare without case, as DNS does.
    expect(findAuthKey({ auths: { 'LOCALHOST:5000': {} } }, 'localhost:5000', 'app')).toBe('LOCALHOST:5000');
    expect(findAuthKey({ auths: { 'https://Registry.Example/v1/': {} } }, 'registry.example', 'app')).toBe('https://Registry.Example/v1/');
  });
});

describe('writeConfigFile', () => {
  it('writes atomically with mode 0600, keeping other fields', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'new-dir');
    const path = join(dir, 'config.json');
    await writeConfigFile(path, { auths: { 'r.io': { auth: b64('u:p') } }, proxies: { default: {} } });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(await readConfigFile(path)).toEqual({ auths: { 'r.io': { auth: b64('u:p') } }, proxies: { default: {} } });
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
  });

  it('reports a missing file as undefined and a broken one as a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    expect(await readConfigFile(join(dir, 'none.json'))).toBeUndefined();
    writeFileSync(join(dir, 'bad.json'), '[1,2]');
    await expect(readConfigFile(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'DOCKER_CONFIG_INVALID', kind: 'usage' });
  });
});
