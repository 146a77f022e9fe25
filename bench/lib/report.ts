/** What a section returns, and how it becomes Markdown. */

export interface Table {
  columns: string[];
  rows: string[][];
}

/** One target of an issue: a measured ratio (or count) against its limit, or a figure only reported (no limit). */
export interface Target {
  name: string;
  measured: number | undefined;
  /** Undefined for a figure the issues ask to report without a limit (install size, install time). */
  limit: number | undefined;
  /** 'x' for ratios, '' for counts, ' MiB' for memory, ' ms' for times. */
  unit: string;
  /** Why it is missing, when `measured` is undefined. */
  missing?: string;
}

export interface SectionResult {
  title: string;
  tables: Table[];
  notes: string[];
  targets: Target[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

export function mib(value: number | undefined): string {
  return value === undefined ? '—' : `${value.toFixed(0)} MiB`;
}

export function markdownTable(table: Table): string {
  const line = (cells: string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(table.columns), line(table.columns.map(() => '---')), ...table.rows.map(line)].join('\n');
}

export function targetStatus(target: Target): string {
  if (target.measured === undefined) return `not measured${target.missing ? ` (${target.missing})` : ''}`;
  if (target.limit === undefined) return 'reported';
  return target.measured <= target.limit ? 'met' : `missed by ${formatTarget(target.measured - target.limit, target.unit)}`;
}

export function formatTarget(value: number, unit: string): string {
  if (unit === 'x') return ratio(value);
  if (unit === '') return String(Math.round(value));
  if (unit === ' ms') return ms(value);
  return `${value.toFixed(0)}${unit}`;
}

export function targetsTable(targets: Target[]): Table {
  return {
    columns: ['target', 'measured', 'limit', 'status'],
    rows: targets.map((t) => [
      t.name,
      t.measured === undefined ? '—' : formatTarget(t.measured, t.unit),
      t.limit === undefined ? '—' : `≤ ${formatTarget(t.limit, t.unit)}`,
      targetStatus(t),
    ]),
  };
}

/**
 * The targets of every section, one table under each section's title: what `npm run bench` prints at the end and
 * bench/results.md starts with. scripts/bench-figures.mjs reads it back to write the README's paragraph.
 */
export function renderTargets(results: SectionResult[]): string {
  const parts = ['## Targets', ''];
  for (const section of results.filter((r) => r.targets.length > 0)) {
    parts.push(`### ${section.title}`, '', markdownTable(targetsTable(section.targets)), '');
  }
  return parts.join('\n');
}

export function renderSection(section: SectionResult): string {
  const parts = [`## ${section.title}`, ''];
  for (const table of section.tables) parts.push(markdownTable(table), '');
  for (const note of section.notes) parts.push(`- ${note}`);
  if (section.notes.length > 0) parts.push('');
  return parts.join('\n');
}
