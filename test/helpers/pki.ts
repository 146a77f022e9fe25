import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Test certificates made with openssl at test time: a CA, and leaf certificates it issues for a TLS server
 * (127.0.0.1 and localhost), a TLS client, or a token signer. Short-lived, in the caller's temp directory.
 */
export interface TestCa {
  certFile: string;
  keyFile: string;
  dir: string;
}

export interface TestLeaf {
  certFile: string;
  keyFile: string;
  /** PEM of the certificate. */
  certPem: string;
  keyPem: string;
}

export type KeyType = 'ec' | 'rsa';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function keyArgs(type: KeyType): string[] {
  return type === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
}

export function createCa(dir: string, name = 'oci-artifact test CA'): TestCa {
  const certFile = join(dir, `${safe(name)}.crt`);
  const keyFile = join(dir, `${safe(name)}.key`);
  openssl(['req', '-x509', ...keyArgs('ec'), '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  return { certFile, keyFile, dir };
}

/** A certificate issued by `ca`: `server` for 127.0.0.1/localhost, `client` for mutual TLS, `signer` for tokens. */
export function issueLeaf(ca: TestCa, name: string, use: 'server' | 'client' | 'signer', keyType: KeyType = 'ec'): TestLeaf {
  const base = join(ca.dir, safe(name));
  const ext = `${base}.ext`;
  const lines = ['basicConstraints=critical,CA:FALSE'];
  if (use === 'server') lines.push('subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth', 'keyUsage=critical,digitalSignature,keyEncipherment');
  if (use === 'client') lines.push('extendedKeyUsage=clientAuth', 'keyUsage=critical,digitalSignature');
  if (use === 'signer') lines.push('keyUsage=critical,digitalSignature');
  writeFileSync(ext, `${lines.join('\n')}\n`);
  openssl(['req', ...keyArgs(keyType), '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`], ca.dir);
  openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial',
    '-out', `${base}.crt`, '-days', '2', '-extfile', ext], ca.dir);
  return {
    certFile: `${base}.crt`,
    keyFile: `${base}.key`,
    certPem: readFileSync(`${base}.crt`, 'utf8'),
    keyPem: readFileSync(`${base}.key`, 'utf8'),
  };
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]+/g, '-');
}
