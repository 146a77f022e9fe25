import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readExactlySync } from '../../src/artifact/walk.js';

const dir = mkdtempSync(join(tmpdir(), 'read-exactly-'));
const file = join(dir, 'ten.txt');
writeFileSync(file, '0123456789');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withFd<T>(body: (fd: number) => T): T {
  const fd = openSync(file, 'r');
  try {
    return body(fd);
  } finally {
    closeSync(fd);
  }
}

describe('readExactlySync (the packer reads files with it)', () => {
  it('fills the target and accepts a file that ends there', () => {
    const target = Buffer.alloc(10);
    withFd((fd) => readExactlySync(fd, target, 'ten.txt', true));
    expect(target.toString()).toBe('0123456789');
  });

  it('reads in pieces: only the last piece checks for the end', () => {
    const parts = [Buffer.alloc(4), Buffer.alloc(6)];
    withFd((fd) => {
      readExactlySync(fd, parts[0]!, 'ten.txt', false);
      readExactlySync(fd, parts[1]!, 'ten.txt', true);
    });
    expect(Buffer.concat(parts).toString()).toBe('0123456789');
  });

  it('refuses a file that grew or shrank since it was listed', () => {
    expect(() => withFd((fd) => readExactlySync(fd, Buffer.alloc(5), 'ten.txt', true))).toThrow(expect.objectContaining({ code: 'FILE_CHANGED' }));
    expect(() => withFd((fd) => readExactlySync(fd, Buffer.alloc(20), 'ten.txt', true))).toThrow(expect.objectContaining({ code: 'FILE_CHANGED' }));
  });
});
