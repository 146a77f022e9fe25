import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rule of docs/ARCHITECTURE (cli -> ops -> registry | artifact | signing -> ref; only cli and
 * output print) checked by reading the sources, the way go-containerregistry keeps its layering with depcheck
 * tests. Every import counts, `import type` and dynamic `import()`/`require()` included: a type-only edge still
 * ties one layer to another.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');

interface SourceFile {
  /** Path under src/, with forward slashes: `ops/push.ts`. */
  path: string;
  /** Top folder under src/ (`ops`), or the file itself for top-level files (`errors.ts`). */
  area: string;
  /** Package names (`undici`, `undici/lib/...`) and src-relative targets (`registry/http.js`). */
  imports: string[];
  text: string;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

/** Drops comments so a JSDoc line mentioning `process.stdout` or an example import is not a violation. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Parses one file as if it stood at `src/<path>`. */
function parse(path: string, source: string): SourceFile {
  const text = stripComments(source);
  const imports = [...text.matchAll(IMPORT)].map(([, spec]) =>
    spec!.startsWith('.') ? relative(SRC, resolve(dirname(join(SRC, path)), spec!)).split('\\').join('/') : spec!,
  );
  return { path, area: path.split('/')[0]!, imports, text };
}

function readSources(): SourceFile[] {
  return readdirSync(SRC, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => {
      const full = join(e.parentPath, e.name);
      return parse(relative(SRC, full).split('\\').join('/'), readFileSync(full, 'utf8'));
    });
}

const pkg = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
const srcArea = (spec: string) => spec.split('/')[0]!;

interface Rule {
  /** Areas the rule applies to (a file whose area is not listed is unaffected). */
  who: (area: string) => boolean;
  /** True when this import is forbidden for that area. */
  forbids: (spec: string) => boolean;
  why: string;
}

const SRC_AREAS = new Set(readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name));
const local = (spec: string) => SRC_AREAS.has(srcArea(spec)) || /^[a-z-]+\.js$/.test(spec);

const RULES: Rule[] = [
  {
    who: (a) => a !== 'cli' && a !== 'output',
    forbids: (s) => !local(s) && ['commander', 'ora', 'chalk'].includes(pkg(s)),
    why: 'only src/cli and src/output use commander, ora or chalk',
  },
  {
    who: (a) => a === 'ops',
    forbids: (s) => local(s) && ['cli', 'output'].includes(srcArea(s)),
    why: 'src/ops returns results and reports through callbacks; it never reaches up into cli or output',
  },
  {
    who: (a) => a === 'ref',
    forbids: (s) => local(s) && srcArea(s) !== 'ref' && s !== 'errors.js',
    why: 'src/ref is pure: it imports nothing from src/ but src/errors',
  },
  {
    who: (a) => ['registry', 'layout', 'artifact', 'signing'].includes(a),
    forbids: (s) => local(s) && ['ops', 'cli', 'output'].includes(srcArea(s)),
    why: 'registry, layout, artifact and signing sit below ops and never import ops, cli or output',
  },
  {
    who: (a) => a !== 'registry',
    forbids: (s) => !local(s) && pkg(s) === 'undici',
    why: 'src/registry/http.ts is the one HTTP path: only src/registry imports undici',
  },
  {
    who: (a) => a !== 'artifact',
    forbids: (s) => !local(s) && pkg(s) === 'tar',
    why: 'src/artifact is the one tar reader/writer: only it imports tar',
  },
];

/** Writing to the terminal: the standard streams and console. Reading stdin is allowed (push/build take `-`). */
const PRINTS = /\bprocess\.(?:stdout|stderr)\b|\bconsole\.[a-z]+\s*\(|\bprocess\.exit\s*\(/g;

function violations(files: SourceFile[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    for (const rule of RULES) {
      if (!rule.who(file.area)) continue;
      for (const spec of file.imports) if (rule.forbids(spec)) found.push(`src/${file.path} imports ${spec}: ${rule.why}`);
    }
    if (file.area !== 'cli' && file.area !== 'output') {
      for (const [hit] of file.text.matchAll(PRINTS)) {
        found.push(`src/${file.path} uses ${hit.replace(/\s*\($/, '')}: only src/cli and src/output print or exit`);
      }
    }
  }
  return found;
}

describe('layering (dependency rule)', () => {
  const files = readSources();

  it('reads the whole source tree, imports included', () => {
    // A scanner that silently read nothing would pass every rule below.
    expect(files.length).toBeGreaterThan(50);
    const http = files.find((f) => f.path === 'registry/http.ts');
    expect(http?.imports.some((s) => pkg(s) === 'undici')).toBe(true);
    const program = files.find((f) => f.path === 'cli/program.ts');
    expect(program?.imports).toContain('cli/commands/push.js');
    expect(program?.imports).toContain('commander');
  });

  it('src/ follows the dependency rule', () => {
    expect(violations(files)).toEqual([]);
  });

  it('reports each kind of violation', () => {
    const fake = (path: string, body: string) => [parse(path, body)];
    const cases: Array<[string, string]> = [
      ['ops/x.ts', "import chalk from 'chalk';"],
      ['ops/x.ts', "import type { Printer } from '../output/printer.js';"],
      ['ops/x.ts', "const m = await import('../cli/options.js');"],
      ['ref/x.ts', "import { OciError } from '../oci/types.js';"],
      ['layout/x.ts', "import { push } from '../ops/push.js';"],
      ['signing/x.ts', "import { request } from 'undici';"],
      ['ops/x.ts', "const t = require('tar');"],
      ['artifact/x.ts', 'process.stderr.write("hi");'],
      ['registry/x.ts', 'console.log(1);'],
      ['ops/x.ts', 'process.exit(2);'],
    ];
    for (const [path, body] of cases) expect(violations(fake(path, body)), `${path}: ${body}`).toHaveLength(1);
    // The allowed neighbours of each of those stay quiet, and comments do not count.
    const allowed: Array<[string, string]> = [
      ['cli/x.ts', "import chalk from 'chalk'; process.stdout.write('');"],
      ['output/x.ts', "const { default: ora } = await import('ora');"],
      ['ref/x.ts', "import { OciError } from '../errors.js';"],
      ['registry/x.ts', "import { Agent } from 'undici';"],
      ['artifact/x.ts', "import { Header } from 'tar';"],
      ['ops/x.ts', "// process.stdout is the CLI's\nimport { push } from '../registry/upload.js'; const s = process.stdin;"],
    ];
    for (const [path, body] of allowed) expect(violations(fake(path, body)), `${path}: ${body}`).toEqual([]);
  });
});
