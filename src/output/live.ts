import type { Writable } from 'node:stream';
import { truncateToWidth } from './format.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;
const ESC = '\u001b';

/**
 * The few lines at the bottom of a terminal that are redrawn in place: a spinner with the current step and any
 * progress bars below it. Each line is cut to the terminal's width so that it takes exactly one row, which makes
 * the rows to erase on the next redraw a plain count (a wrapped line would have to be measured, and with an unknown
 * width cannot be). When the width is unknown nothing is drawn. It never reads or reconfigures stdin, so Ctrl-C
 * stays the terminal's SIGINT.
 */
export class LiveArea {
  private render: () => string[] = () => [];
  private drawnRows = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: Writable,
    private readonly width: () => number | undefined,
    private readonly paintFrame: (frame: string) => string = (frame) => frame,
  ) {}

  get active(): boolean {
    return this.timer !== undefined;
  }

  /** Show the lines `render` gives (the first gets the spinner), asked again at every frame until stop(). */
  show(render: () => string[]): void {
    this.render = render;
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        this.frame = (this.frame + 1) % FRAMES.length;
        this.draw();
      }, FRAME_MS);
      this.timer.unref();
      this.draw();
    }
  }

  /** Write permanent text above the live lines. */
  writeAbove(text: string): void {
    this.stream.write(this.erase() + text);
    if (this.active) this.draw();
  }

  /** Erase the live lines and stop animating. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const erase = this.erase();
    if (erase !== '') this.stream.write(erase);
  }

  private draw(): void {
    const width = this.width();
    if (width === undefined) return;
    // One column is kept free: some terminals wrap as soon as the last column is written.
    const rows = this.render().map((line, i) => truncateToWidth(i === 0 ? `${FRAMES[this.frame]} ${line}` : line, width - 1));
    const painted = rows.map((row, i) => (i === 0 ? this.paintFrame(row.slice(0, 1)) + row.slice(1) : row));
    this.stream.write(this.erase() + painted.join('\n'));
    this.drawnRows = rows.length;
  }

  /** Escape codes that move to the start of the first drawn row and clear to the end of the screen. */
  private erase(): string {
    if (this.drawnRows === 0) return '';
    const up = this.drawnRows > 1 ? `${ESC}[${this.drawnRows - 1}A` : '';
    this.drawnRows = 0;
    return `${up}\r${ESC}[J`;
  }
}
