import { describe, expect, it } from 'vitest';
import { compareFiles, isExecutable, summarise, type FileEntry } from '../../src/diff/compare.js';
import { renderPaths, renderStatusLines } from '../../src/diff/render.js';

const H = (c: string) => `sha256:${c.repeat(64)}`;
const file = (path: string, sha: string, mode = 0o644, size = 10): FileEntry => ({ path, mode, size, sha256: H(sha) });

describe('compareFiles', () => {
  it('finds nothing between equal sets, whatever their order or non-executable mode bits', () => {
    const a = [file('a.yaml', '1'), file('dir/b.yaml', '2', 0o600)];
    const b = [file('dir/b.yaml', '2', 0o664), file('a.yaml', '1')];
    expect(compareFiles(a, b)).toEqual([]);
  });

  it('classifies added, removed, modified and mode-changed files, sorted by path', () => {
    const a = [file('same', '0'), file('gone', '1'), file('edit', '2'), file('run.sh', '3', 0o644), file('both', '4', 0o644)];
    const b = [file('same', '0'), file('new', '5'), file('edit', '6'), file('run.sh', '3', 0o755), file('both', '7', 0o755)];
    const changes = compareFiles(a, b);
    expect(changes.map((c) => [c.path, c.status])).toEqual([
      ['both', 'modified'], ['edit', 'modified'], ['gone', 'removed'], ['new', 'added'], ['run.sh', 'mode-changed'],
    ]);
    expect(changes.find((c) => c.path === 'run.sh')).toMatchObject({ old: { mode: '644', executable: false }, new: { mode: '755', executable: true } });
    expect(summarise(changes)).toEqual({ added: 1, removed: 1, modified: 2, modeChanged: 1 });
  });

  it('treats any execute bit as executable', () => {
    expect(isExecutable(0o100)).toBe(true);
    expect(isExecutable(0o001)).toBe(true);
    expect(isExecutable(0o666)).toBe(false);
  });
});

describe('status rendering', () => {
  it('prints one aligned line per change and names mode flips', () => {
    const changes = compareFiles(
      [file('a', '1'), file('run.sh', '2', 0o644), file('x.sh', '3', 0o755)],
      [file('b', '1'), file('run.sh', '2', 0o755), file('x.sh', '4', 0o644)],
    );
    expect(renderStatusLines(changes)).toBe(
      'removed   a\n' + 'added     b\n' + 'mode      run.sh 644 -> 755\n' + 'modified  x.sh (mode 755 -> 644)\n',
    );
    expect(renderPaths(changes)).toBe('a\nb\nrun.sh\nx.sh\n');
  });
});
