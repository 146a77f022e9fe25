import { describe, expect, it } from 'vitest';
import { compareFiles, type FileEntry } from '../../src/diff/compare.js';
import { isText, MAX_TEXT_DIFF_BYTES, renderFilePatch } from '../../src/diff/text.js';

const entry = (path: string, sha: string, mode = 0o644, size = 4): FileEntry => ({ path, mode, size, sha256: `sha256:${sha.repeat(64)}` });

describe('isText', () => {
  it('accepts UTF-8 and refuses NUL bytes and invalid sequences', () => {
    expect(isText(Buffer.from('héllo: wörld\n'))).toBe(true);
    expect(isText(Buffer.from([0x61, 0x00, 0x62]))).toBe(false);
    expect(isText(Buffer.from([0xff, 0xfe, 0x41]))).toBe(false);
  });
});

describe('renderFilePatch', () => {
  it('writes a unified diff with a/ and b/ names for a modified text file', () => {
    const [change] = compareFiles([entry('app.yaml', '1')], [entry('app.yaml', '2')]);
    const { kind, patch } = renderFilePatch(change!, Buffer.from('replicas: 2\nimage: a\n'), Buffer.from('replicas: 3\nimage: a\n'));
    expect(kind).toBe('text');
    expect(patch).toBe(
      'diff a/app.yaml b/app.yaml\n--- a/app.yaml\n+++ b/app.yaml\n@@ -1,2 +1,2 @@\n-replicas: 2\n+replicas: 3\n image: a\n',
    );
  });

  it('shows an added file against /dev/null with its mode', () => {
    const [change] = compareFiles([], [entry('new.txt', '1', 0o755)]);
    const { patch } = renderFilePatch(change!, undefined, Buffer.from('x\n'));
    expect(patch).toContain('new file mode 755\n');
    expect(patch).toContain('--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,1 @@\n+x\n');
  });

  it('shows a removed file against /dev/null', () => {
    const [change] = compareFiles([entry('old.txt', '1')], []);
    const { patch } = renderFilePatch(change!, Buffer.from('x\n'), undefined);
    expect(patch).toContain('deleted file mode 644\n--- a/old.txt\n+++ /dev/null\n');
  });

  it('summarises binary and oversized content instead of diffing it', () => {
    const [change] = compareFiles([entry('logo.bin', '1')], [entry('logo.bin', '2')]);
    const binary = renderFilePatch(change!, Buffer.from([0, 1, 2]), Buffer.from([0, 1, 3]));
    expect(binary.kind).toBe('binary');
    expect(binary.patch).toContain('Binary files a/logo.bin and b/logo.bin differ');
    const [large] = compareFiles([entry('big.txt', '1', 0o644, MAX_TEXT_DIFF_BYTES + 1)], [entry('big.txt', '2', 0o644, 3)]);
    const oversized = renderFilePatch(large!, undefined, Buffer.from('a\n'));
    expect(oversized.kind).toBe('large');
    expect(oversized.patch).toContain('Large files a/big.txt and b/big.txt differ');
  });

  it('quotes a path with a line break, quote or backslash, so it cannot add lines to the patch', () => {
    const [change] = compareFiles([], [entry('x\n+++ b/"forged"\r.txt', '1')]);
    const { patch } = renderFilePatch(change!, undefined, Buffer.from('y\n'));
    expect(patch.split('\n').slice(0, 4)).toEqual([
      'diff "a/x\\n+++ b/\\"forged\\"\\r.txt" "b/x\\n+++ b/\\"forged\\"\\r.txt"',
      'new file mode 644',
      '--- /dev/null',
      '+++ "b/x\\n+++ b/\\"forged\\"\\r.txt"',
    ]);
  });

  it('prints only mode lines for a mode change', () => {
    const [change] = compareFiles([entry('run.sh', '1', 0o644)], [entry('run.sh', '1', 0o755)]);
    expect(renderFilePatch(change!, undefined, undefined)).toEqual({ kind: 'mode', patch: 'diff a/run.sh b/run.sh\nold mode 644\nnew mode 755\n' });
  });
});
