import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The dependency rule of docs/architecture.md, checked by reading the sources, the way go-containerregistry keeps
 * its layering with depcheck tests. The allowed edges are read from that document's tables (one source of truth):
 * an import the table does not list fails here. Every import counts, `import type` and dynamic
 * `import()`/`require()` included: a type-only edge still ties one layer to another.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');
const DOC_PATH = 'docs/architecture.md';

interface SourceFile {
  /** Path under src/, with forward slashes: `ops/push.ts`. */
  path: string;
  /** Top folder under src/ (`ops`), or the file itself for top-level files (`errors.ts`). */
  area: string;
  /** Package names (`undici`, `undici/lib/...`) and src-relative targets (`registry/http.ts`). */
  imports: string[];
  text: string;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

/** Drops comments so a JSDoc line mentioning `process.stdout` or an example import is not a violation. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** Parses one file as if it stood at `src/<path>`; relative imports become src-relative `.ts` paths. */
function parse(path: string, source: string): SourceFile {
  const text = stripComments(source);
  const imports = [...text.matchAll(IMPORT)].map(([, spec]) =>
    spec!.startsWith('.')
      ? relative(SRC, resolve(dirname(join(SRC, path)), spec!)).split('\\').join('/').replace(/\.js$/, '.ts')
      : spec!,
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
const isLocal = (spec: string) => spec.endsWith('.ts') && !spec.startsWith('..');
const areaOf = (path: string) => path.split('/')[0]!;
/** A leaf module is a file directly in src/ (`errors.ts`): every area may import it. */
const isLeaf = (area: string) => area.endsWith('.ts');

/** What docs/architecture.md allows, as read from its tables and its graph. */
interface Architecture {
  /** Area (or leaf module) -> what it may import from other areas: areas, files (`x/y.ts`) or folders (`x/y/`). */
  allowed: Map<string, string[]>;
  /** Package -> the areas that alone may import it. */
  packages: Map<string, string[]>;
  /** The edges drawn in the mermaid graph: `a --> b` (whole area) and `a -.-> b` (named files only). */
  drawn: string[];
}

/** Rows of the markdown table under `## <heading>`, split into cells. */
function tableRows(doc: string, heading: string): string[][] {
  const section = doc.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  if (section === undefined) throw new Error(`${DOC_PATH} has no section '## ${heading}'`);
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .slice(1) // the header row
    .map((line) => line.slice(1, -1).split('|').map((cell) => cell.trim()));
}

const backticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map(([, name]) => name!);

function parseArchitecture(doc: string): Architecture {
  const allowed = new Map<string, string[]>();
  for (const [area, , mayImport] of tableRows(doc, 'Allowed imports')) {
    const [name] = backticked(area!);
    if (name === undefined || mayImport === undefined) throw new Error(`${DOC_PATH}: unreadable row for ${area}`);
    allowed.set(name, backticked(mayImport));
  }
  const packages = new Map<string, string[]>();
  for (const [name, areas] of tableRows(doc, 'Packages owned by one area')) packages.set(backticked(name!)[0]!, backticked(areas!));
  const graph = /```mermaid\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  const drawn = [...graph.matchAll(/^\s*(\w+)\s*(-->|-\.->)\s*(\w+)\s*$/gm)].map(([, from, arrow, to]) => `${from} ${arrow} ${to}`);
  return { allowed, packages, drawn };
}

/** The edges the table allows, as the graph should draw them (leaf modules left out). */
function edgesOfTable(arch: Architecture): string[] {
  const edges: string[] = [];
  for (const [area, entries] of arch.allowed) {
    const whole = new Set(entries.filter((e) => !e.includes('/')));
    const partial = new Set(entries.filter((e) => e.includes('/')).map(areaOf).filter((a) => !whole.has(a)));
    for (const to of whole) edges.push(`${area} --> ${to}`);
    for (const to of partial) edges.push(`${area} -.-> ${to}`);
  }
  return edges.sort();
}

function allows(entries: readonly string[], target: string): boolean {
  return entries.some((entry) => entry === target || entry === areaOf(target) || (entry.endsWith('/') && target.startsWith(entry)));
}

/** Writing to the terminal: the standard streams and console. Reading stdin is allowed (push/build take `-`). */
const PRINTS = /\bprocess\.(?:stdout|stderr)\b|\bconsole\.[a-z]+\s*\(|\bprocess\.exit\s*\(/g;

function violations(files: SourceFile[], arch: Architecture): string[] {
  const found: string[] = [];
  const fix = `if the edge is right, add it to the table in ${DOC_PATH}`;
  for (const file of files) {
    const allowed = arch.allowed.get(file.area);
    if (allowed === undefined) {
      found.push(`src/${file.path}: area '${file.area}' has no row in the table of ${DOC_PATH}; add one (its job, what it may import)`);
      continue;
    }
    for (const spec of file.imports) {
      if (isLocal(spec)) {
        const to = areaOf(spec);
        if (to === file.area || (isLeaf(to) && !isLeaf(file.area)) || allows(allowed, spec)) continue;
        found.push(`src/${file.path} imports src/${spec}: ${file.area} may import ${allowed.join(', ') || 'nothing from other areas'} (${fix})`);
      } else {
        const owners = arch.packages.get(pkg(spec));
        if (owners !== undefined && !owners.includes(file.area)) {
          found.push(`src/${file.path} imports ${spec}: only ${owners.join(', ')} may import ${pkg(spec)} (${DOC_PATH}, packages owned by one area)`);
        }
      }
    }
    if (file.area !== 'cli' && file.area !== 'output') {
      for (const [hit] of file.text.matchAll(PRINTS)) {
        found.push(`src/${file.path} uses ${hit.replace(/\s*\($/, '')}: only src/cli and src/output print or exit`);
      }
    }
  }
  return found;
}

describe('layering (dependency rule of docs/architecture.md)', () => {
  const doc = readFileSync(join(ROOT, DOC_PATH), 'utf8');
  const arch = parseArchitecture(doc);
  const files = readSources();

  it('reads the whole source tree and the whole table', () => {
    // A scanner that silently read nothing would pass every rule below.
    expect(files.length).toBeGreaterThan(50);
    const pool = files.find((f) => f.path === 'registry/connection-pool.ts');
    expect(pool?.imports.some((s) => pkg(s) === 'undici')).toBe(true);
    const reporter = files.find((f) => f.path === 'output/reporter.ts');
    expect(reporter?.imports).toContain('ops/support/open-repository.ts');
    expect([...arch.allowed.keys()].sort()).toEqual(
      ['artifact', 'atomic-write.ts', 'bytes.ts', 'cli', 'diff', 'errors.ts', 'layout', 'oci', 'ops', 'output', 'ref', 'registry', 'secrets.ts', 'signing'],
    );
    expect(arch.allowed.get('oci')).toEqual(['ref']);
    expect(arch.packages.get('undici')).toEqual(['registry']);
  });

  it('src/ imports only what the table allows', () => {
    expect(violations(files, arch)).toEqual([]);
  });

  it('every area of src/ has a row, and every row is an area of src/', () => {
    const areas = new Set(files.map((f) => f.area));
    expect([...arch.allowed.keys()].sort()).toEqual([...areas].sort());
    for (const entries of arch.allowed.values()) {
      for (const entry of entries) expect(existsSync(join(SRC, entry)), `${DOC_PATH} names src/${entry}`).toBe(true);
    }
  });

  it('the graph drawn in the document is the table', () => {
    expect([...arch.drawn].sort()).toEqual(edgesOfTable(arch));
  });

  it('every module the document names exists', () => {
    const named = [...doc.matchAll(/`(src\/[^`]+)`/g)].map(([, path]) => path!);
    expect(named.length).toBeGreaterThan(40);
    for (const path of named) expect(existsSync(join(ROOT, path)), `${DOC_PATH} names ${path}`).toBe(true);
  });

  it('reports each kind of violation', () => {
    const check = (path: string, body: string) => violations([parse(path, body)], arch);
    const forbidden: Array<[string, string]> = [
      // Upward and sideways edges between areas.
      ['oci/x.ts', "import { openRegistryRepository } from '../registry/client.js';"],
      ['oci/x.ts', "const { openLayoutRepository } = await import('../layout/repository.js');"],
      ['ref/x.ts', "import type { Descriptor } from '../oci/types.js';"],
      ['diff/x.ts', "import type { Repository } from '../oci/types.js';"],
      ['layout/x.ts', "import { pack } from '../artifact/pack.js';"],
      ['layout/x.ts', "import { push } from '../ops/push.js';"],
      ['artifact/x.ts', "import { storeBlobBytes } from '../layout/blobs.js';"],
      ['atomic-write.ts', "import { OciError } from './errors.js';"],
      ['ops/x.ts', "import type { Printer } from '../output/printer.js';"],
      ['ops/x.ts', "const m = await import('../cli/options.js');"],
      ['cli/x.ts', "import { request } from '../registry/http.js';"],
      ['errors.ts', "import { formatBytes } from './bytes.js';"],
      ['newarea/x.ts', "import { OciError } from '../errors.js';"],
      // Packages owned by one area.
      ['ops/x.ts', "import { Command } from 'commander';"],
      ['signing/x.ts', "import { request } from 'undici';"],
      ['ops/x.ts', "const t = require('tar');"],
      // Printing below cli and output.
      ['artifact/x.ts', 'process.stderr.write("hi");'],
      ['registry/x.ts', 'console.log(1);'],
      ['ops/x.ts', 'process.exit(2);'],
    ];
    for (const [path, body] of forbidden) expect(check(path, body), `${path}: ${body}`).toHaveLength(1);
    // The allowed neighbours of each of those stay quiet, and comments do not count.
    const allowed: Array<[string, string]> = [
      ['ops/x.ts', "import { openRegistryRepository } from '../registry/client.js';"],
      ['oci/x.ts', "import { parseReference } from '../ref/reference.js';"],
      ['ref/x.ts', "import { OciError } from '../errors.js'; import { digestOf } from './digest.js';"],
      ['artifact/x.ts', "import { withLock } from '../layout/lock.js'; import { formatBytes } from '../bytes.js';"],
      ['cli/x.ts', "import { Command } from 'commander'; import { PROVIDER_NAMES } from '../registry/providers/types.js'; process.stdout.write('');"],
      ['output/x.ts', "const { default: ora } = await import('ora'); import type { RequestLog } from '../ops/support/open-repository.js';"],
      ['registry/x.ts', "import { Agent } from 'undici';"],
      ['artifact/x.ts', "import { Header } from 'tar';"],
      ['ops/x.ts', "// process.stdout is the CLI's\nimport { push } from '../registry/upload.js'; const s = process.stdin;"],
      ['oci/x.ts', "// import { openRegistryRepository } from '../registry/client.js';"],
    ];
    for (const [path, body] of allowed) expect(check(path, body), `${path}: ${body}`).toEqual([]);
  });

  it('reads a changed table: an edge removed from the document is refused', () => {
    const narrowed = parseArchitecture(doc.replace(/(\| `oci` \|[^\n]*\| )`ref` \|/, '$1— |'));
    expect(narrowed.allowed.get('oci')).toEqual([]);
    expect(violations([parse('oci/x.ts', "import { parseReference } from '../ref/reference.js';")], narrowed)).toHaveLength(1);
  });
});

/**
 * Import cycles between modules of src/, each as `a.ts -> b.ts -> a.ts`. A cycle means neither module can be read,
 * tested or loaded without the other (registry/auth.ts and registry/providers/index.ts were one), so none is
 * allowed; as above, type-only and dynamic imports count.
 */
function importCycles(files: SourceFile[]): string[] {
  const edges = new Map(files.map((f) => [f.path, f.imports.filter(isLocal)]));
  const cycles: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): void => {
    const at = path.indexOf(node);
    if (at >= 0) {
      cycles.push([...path.slice(at), node].join(' -> '));
      return;
    }
    if (done.has(node)) return;
    path.push(node);
    for (const next of edges.get(node) ?? []) visit(next);
    path.pop();
    done.add(node);
  };
  for (const file of [...edges.keys()].sort()) visit(file);
  return cycles;
}

describe('import cycles', () => {
  it('src/ has none', () => {
    expect(importCycles(readSources())).toEqual([]);
  });

  it('finds a cycle through a type-only or dynamic import, and not a chain', () => {
    const cycle = [
      parse('registry/a.ts', "import type { B } from './b.js';"),
      parse('registry/b.ts', "const { c } = await import('./providers/c.js');"),
      parse('registry/providers/c.ts', "import type { A } from '../a.js';"),
    ];
    expect(importCycles(cycle)).toEqual(['registry/a.ts -> registry/b.ts -> registry/providers/c.ts -> registry/a.ts']);
    const chain = [
      parse('registry/a.ts', "import { b } from './b.js';"),
      parse('registry/b.ts', "import type { C } from './providers/c.js';"),
      parse('registry/providers/c.ts', "import { OciError } from '../../errors.js';"),
    ];
    expect(importCycles(chain)).toEqual([]);
  });
});
