import type { Writable } from 'node:stream';
import type { TransferProgress } from '../oci/types.js';
import type { RequestLog } from '../oci/open.js';
import { formatBytes } from '../bytes.js';
import { formatSeconds } from './format.js';
import { safeLine } from './escape.js';
import { redactSecrets } from '../secrets.js';
import { LiveArea } from './live.js';
import type { TerminalInfo } from './terminal.js';

export interface ReporterOptions {
  stream: Writable;
  terminal: TerminalInfo;
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
}

/** Transfers at least this large get a progress bar on a terminal. */
const PROGRESS_THRESHOLD = 1024 * 1024;
const BAR_WIDTH = 24;

/**
 * Everything the CLI tells a person on stderr: steps, notices, progress, request logs and the final line.
 * On a terminal a spinner carries the current step and a progress bar; elsewhere one plain line per step.
 * Every message may carry text from a registry or an artifact, so each is printed through safeLine.
 */
export class Reporter {
  private live: LiveArea | undefined;
  private readonly transfers = new Map<string, { started: number; progress: TransferProgress }>();
  private chalk: typeof import('chalk').default | undefined;
  private currentStep = '';

  constructor(private readonly options: ReporterOptions) {}

  /** Load the optional presentation libraries only when they will be used. */
  async init(): Promise<void> {
    if (this.options.terminal.colour) this.chalk = (await import('chalk')).default;
    if (this.options.terminal.interactive && !this.options.quiet) {
      this.live = new LiveArea(this.options.stream, this.options.terminal.width, (frame) => this.paint('cyan', frame));
    }
  }

  private paint(colour: 'green' | 'red' | 'yellow' | 'cyan' | 'dim', text: string): string {
    return this.chalk ? this.chalk[colour](text) : text;
  }

  /** `symbol message` as one line; symbols and colours are ours, the message is escaped and has no secret. */
  private writeLine(symbol: string, message: string): void {
    const line = `${symbol} ${safeLine(redactSecrets(message))}\n`;
    if (this.live?.active) this.live.writeAbove(line);
    else this.options.stream.write(line);
  }

  step(message: string): void {
    if (this.options.quiet) return;
    this.currentStep = safeLine(message);
    if (this.live) {
      this.redraw();
      return;
    }
    this.writeLine(this.paint('cyan', '►'), message);
  }

  notice(message: string): void {
    if (this.options.quiet) return;
    this.writeLine(this.paint('yellow', '!'), message);
  }

  success(message: string): void {
    if (this.options.quiet) return;
    this.live?.stop();
    this.writeLine(this.paint('green', '✔'), message);
  }

  error(message: string): void {
    this.live?.stop();
    this.writeLine(this.paint('red', '✗'), message);
  }

  finish(): void {
    this.live?.stop();
  }

  /** Transfer progress: a bar under the spinner on a terminal for transfers over 1 MiB; silent otherwise. */
  progress(event: TransferProgress): void {
    if (!this.live || this.options.quiet) return;
    const key = `${event.direction}:${event.digest ?? event.label}`;
    const entry = this.transfers.get(key) ?? { started: Date.now(), progress: event };
    entry.progress = event;
    this.transfers.set(key, entry);
    if (event.done) this.transfers.delete(key);
    if (this.live.active) this.redraw();
  }

  private redraw(): void {
    const active = [...this.transfers.values()].filter((t) => (t.progress.total ?? t.progress.bytes) >= PROGRESS_THRESHOLD);
    this.live?.show([this.currentStep, ...active.map((t) => renderBar(t.progress, t.started))]);
  }

  request(log: RequestLog): void {
    if (!this.options.verbose && !this.options.debug) return;
    const status = log.status ?? log.error ?? 'failed';
    this.writeLine(this.paint('dim', '→'), `${log.method} ${log.url} ${status} ${Math.round(log.durationMs)}ms`);
    if (this.options.debug) {
      for (const [k, v] of Object.entries(log.requestHeaders ?? {})) this.writeLine(this.paint('dim', '  >'), `${k}: ${v}`);
      for (const [k, v] of Object.entries(log.responseHeaders ?? {})) this.writeLine(this.paint('dim', '  <'), `${k}: ${v}`);
    }
  }
}

/** `label [=====>     ] 45% 12 MiB/40 MiB 5.2 MiB/s ETA 5s` */
function renderBar(progress: TransferProgress, started: number, now = Date.now()): string {
  const elapsed = Math.max((now - started) / 1000, 0.001);
  const rate = progress.bytes / elapsed;
  const size = progress.total !== undefined ? `${formatBytes(progress.bytes)}/${formatBytes(progress.total)}` : formatBytes(progress.bytes);
  let bar = '';
  let tail = '';
  if (progress.total !== undefined && progress.total > 0) {
    const ratio = Math.min(progress.bytes / progress.total, 1);
    const filled = Math.round(ratio * BAR_WIDTH);
    bar = `[${'='.repeat(Math.max(filled - 1, 0))}${filled > 0 ? '>' : ''}${' '.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% `;
    tail = ` ETA ${formatSeconds((progress.total - progress.bytes) / Math.max(rate, 1))}`;
  }
  return `  ${safeLine(shortLabel(progress.label))} ${bar}${size} ${formatBytes(rate)}/s${tail}`;
}

/** Media types make poor labels; name the blobs people know by their role. */
function shortLabel(label: string): string {
  if (label.includes('flux.content') || label.endsWith('tar+gzip')) return 'content';
  if (label.includes('config')) return 'config';
  return label;
}
