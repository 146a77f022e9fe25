/**
 * notation trust stores: the notation tree `<dir>/x509/{ca,signingAuthority,tsa}/<name>/*.{crt,pem,cer}`, or (as
 * Flux does) a single certificate file / flat folder whose certificates serve every store name.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OciError, usageError } from '../../errors.js';

export type TrustStore = { layout: 'tree'; root: string } | { layout: 'flat'; certs: Buffer[] };

const CERT_FILE = /\.(crt|pem|cer)$/i;

/** DER certificates of a file: every PEM CERTIFICATE block, or the file itself when it is DER. */
function readCertificates(path: string): Buffer[] {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new OciError('FILE_UNREADABLE', `cannot read certificate file ${path}`, { kind: 'usage', cause: err });
  }
  const text = data.toString('latin1');
  if (!text.includes('-----BEGIN')) return data.length > 0 && data[0] === 0x30 ? [data] : [];
  const out: Buffer[] = [];
  for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    out.push(Buffer.from(m[1]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'));
  }
  return out;
}

function certsInDir(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((f) => CERT_FILE.test(f))
    .sort()
    .flatMap((f) => readCertificates(join(dir, f)));
}

export function openTrustStore(path: string): TrustStore {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new OciError('FILE_UNREADABLE', `trust store ${path} does not exist`, { kind: 'usage', cause: err });
  }
  if (isDir && existsSync(join(path, 'x509'))) return { layout: 'tree', root: path };
  const certs = isDir ? certsInDir(path) : readCertificates(path);
  if (certs.length === 0) throw usageError('TRUST_STORE_EMPTY', `trust store ${path} holds no certificates (*.crt, *.pem, *.cer)`);
  return { layout: 'flat', certs };
}

export function storeCertificates(store: TrustStore, type: string, name: string): Buffer[] {
  if (store.layout === 'flat') return store.certs;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return []; // store names never reach outside the tree
  const dir = join(store.root, 'x509', type, name);
  return existsSync(dir) ? certsInDir(dir) : [];
}
