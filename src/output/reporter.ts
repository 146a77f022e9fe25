import type { Writable } from 'node:stream';
import { styleText } from 'node:util';
import type { TransferProgress } from '../oci/types.js';
import type { RequestLog } from '../ops/support/open-repository.js';
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
/** A rate is the bytes moved over this much of the recent past, and is shown only once this much time has passed. */
const RATE_WINDOW_MS = 5000;
const RATE_MIN_SPAN_MS = 1000;

/** One transfer on the screen: its latest event and recent (time, bytes) samples for the rate. */
export interface Transfer {
  progress: TransferProgress;
  samples: Array<{ at: number; bytes: number }>;
}

/**
 * Everything the CLI tells a person on stderr: steps, notices, progress, request logs and the final line.
 * On a terminal a spinner carries the current step and a progress bar; elsewhere one plain line per step.
 * Every message may carry text from a registry or an artifact, so each is printed through safeLine.
 */
export class Reporter {
  private live: LiveArea | undefined;
  private readonly transfers = new Map<string, Transfer>();
  private currentStep = '';

  constructor(private readonly options: ReporterOptions) {}

  /** Set up the live area (spinner, progress bars) on an interactive terminal. */
  async init(): Promise<void> {
    if (this.options.terminal.interactive && !this.options.quiet) {
      this.live = new LiveArea(this.options.stream, this.options.terminal.width, (frame) => this.paint('cyan', frame));
    }
  }

  /**
   * Colour, when detectTerminal decided on it for this stream (NO_COLOR, FORCE_COLOR, a terminal outside CI):
   * node's own styleText, told not to second-guess that from process.stdout.
   */
  private paint(colour: 'green' | 'red' | 'yellow' | 'cyan' | 'dim', text: string): string {
    return this.options.terminal.colour ? styleText(colour, text, { validateStream: false }) : text;
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

  /** Whether progress events are shown at all: an operation may skip the work of producing them otherwise. */
  get showsProgress(): boolean {
    return this.live !== undefined;
  }

  /** Transfer progress: a bar under the spinner on a terminal for transfers over 1 MiB; silent otherwise. */
  progress(event: TransferProgress, now = Date.now()): void {
    if (!this.live || this.options.quiet) return;
    const key = `${event.direction}:${event.digest ?? event.label}`;
    if (event.done) {
      this.transfers.delete(key);
      return;
    }
    const transfer = this.transfers.get(key) ?? { progress: event, samples: [] };
    transfer.progress = event;
    transfer.samples.push({ at: now, bytes: event.bytes });
    // Keep one sample older than the window, so the rate always spans the whole window once it can.
    while (transfer.samples.length > 2 && (transfer.samples[1]?.at ?? now) < now - RATE_WINDOW_MS) transfer.samples.shift();
    this.transfers.set(key, transfer);
    if (this.live.active) this.redraw();
  }

  private redraw(): void {
    this.live?.show(() => {
      const now = Date.now();
      const shown = [...this.transfers.values()].filter((t) => (t.progress.total ?? t.progress.bytes) >= PROGRESS_THRESHOLD);
      return [this.currentStep, ...shown.map((t) => renderBar(t.progress, rateOf(t, now)))];
    });
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

/**
 * Bytes per second over the recent past, measured from the first sample seen (a first event that reports a burst,
 * such as a buffer handed over at once, is the baseline, never a rate), to now, so a stall shows as a falling
 * rate; undefined until time has passed and bytes have moved since that first sample.
 */
export function rateOf(transfer: Transfer, now: number): number | undefined {
  const first = transfer.samples[0];
  if (first === undefined || now - first.at < RATE_MIN_SPAN_MS || transfer.progress.bytes === first.bytes) return undefined;
  return ((transfer.progress.bytes - first.bytes) * 1000) / (now - first.at);
}

/** `label [=====>     ] 45% 3/12 files 12 MiB/40 MiB 5.2 MiB/s ETA 5s`: each part only when known. */
function renderBar(progress: TransferProgress, rate: number | undefined): string {
  const parts = [safeLine(shortLabel(progress.label))];
  const { total } = progress;
  if (total !== undefined && total > 0) {
    const ratio = Math.min(progress.bytes / total, 1);
    const filled = Math.round(ratio * BAR_WIDTH);
    parts.push(`[${'='.repeat(Math.max(filled - 1, 0))}${filled > 0 ? '>' : ''}${' '.repeat(BAR_WIDTH - filled)}]`, `${String(Math.floor(ratio * 100)).padStart(3)}%`);
  }
  if (progress.totalFiles !== undefined) parts.push(`${progress.files ?? 0}/${progress.totalFiles} files`);
  parts.push(total !== undefined ? `${formatBytes(progress.bytes)}/${formatBytes(total)}` : formatBytes(progress.bytes));
  if (rate !== undefined) {
    parts.push(`${formatBytes(Math.round(rate))}/s`);
    if (total !== undefined && rate > 0) parts.push(`ETA ${formatSeconds((total - progress.bytes) / rate)}`);
  }
  return `  ${parts.join(' ')}`;
}

/** Media types make poor labels; name the blobs people know by their role. */
function shortLabel(label: string): string {
  if (label.includes('flux.content') || label.endsWith('tar+gzip')) return 'content';
  if (label.includes('config')) return 'config';
  return label;
}
