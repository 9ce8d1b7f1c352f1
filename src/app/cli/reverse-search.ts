/**
 * Ctrl-R in the lab shell: bash's reverse-i-search over the history, on top of node:readline,
 * which has none. While a search is on, readline's own key listener is taken off the input and
 * keys go to the search: a typed character extends the query, Backspace shortens it, Ctrl-R
 * finds the next older match; Enter runs the match, Esc, Tab, the arrows and Ctrl-A/E/F/B leave it
 * on the line to edit (and do what they do), Ctrl-G gives the line back as it was, and Ctrl-C gives
 * it back and then does what Ctrl-C does. The history is readline's (newest first).
 */
import type { Interface } from 'node:readline';

/** What readline's keypress events carry (node:readline emitKeypressEvents). */
export interface Key {
  readonly sequence?: string;
  readonly name?: string;
  readonly ctrl?: boolean;
  readonly meta?: boolean;
  readonly shift?: boolean;
}

type KeyListener = (s: string | undefined, key: Key | undefined) => void;

/** Longest query a search keeps (a limit on everything; bash has none). */
export const SEARCH_MAX_QUERY = 256;

/** Keys that end a search with its match on the line, then act on it as they would. */
const EDIT_KEYS = new Set(['left', 'right', 'up', 'down', 'home', 'end', 'tab']);
const EDIT_CTRL_KEYS = new Set(['a', 'e', 'f', 'b']);

export class ReverseSearch {
  private active = false;
  private query = '';
  /** Index in the history of the match shown, or -1. */
  private at = -1;
  private history: readonly string[];
  private readonly readlineListeners: KeyListener[];

  /**
   * `before`: the input's keypress listeners before readline's interface was made on it (those
   * after it are readline's). `history`: the history readline started with, newest first.
   */
  constructor(
    private readonly rl: Interface,
    private readonly input: NodeJS.EventEmitter,
    private readonly output: NodeJS.WritableStream,
    before: readonly unknown[],
    history: readonly string[],
  ) {
    this.history = history;
    this.readlineListeners = input.listeners('keypress').filter((l) => !before.includes(l)) as KeyListener[];
    rl.on('history', (h: string[]) => (this.history = h));
    input.on('keypress', (s: string | undefined, key: Key | undefined) => this.onKey(s, key ?? {}));
  }

  get searching(): boolean {
    return this.active;
  }

  private onKey(s: string | undefined, key: Key): void {
    if (!this.active) {
      if (key.ctrl && key.name === 'r') this.start();
      return;
    }
    if (key.ctrl && key.name === 'r') return this.find(this.at + 1);
    if (key.ctrl && key.name === 'g') return this.end(null);
    if (key.ctrl && key.name === 'c') {
      this.end(null);
      this.rl.write(null, { ctrl: true, name: 'c' });
      return;
    }
    if (key.name === 'return' || key.name === 'enter') {
      this.end(this.match());
      this.rl.write(null, { name: 'return' });
      return;
    }
    if (key.name === 'escape') return this.end(this.match());
    if (EDIT_KEYS.has(key.name ?? '') || (key.ctrl && EDIT_CTRL_KEYS.has(key.name ?? ''))) {
      this.end(this.match());
      this.rl.write(null, key);
      return;
    }
    if (key.name === 'backspace') {
      this.query = this.query.slice(0, -1);
      return this.find(0);
    }
    if (s && !key.ctrl && !key.meta && s.length === 1 && s >= ' ' && this.query.length < SEARCH_MAX_QUERY) {
      this.query += s;
      this.find(Math.max(0, this.at));
    }
  }

  private start(): void {
    this.active = true;
    this.query = '';
    this.at = -1;
    for (const l of this.readlineListeners) this.input.removeListener('keypress', l);
    this.show(false);
  }

  /** The first entry from `from` on that holds the query; the shown match stays when there is none. */
  private find(from: number): void {
    const i = this.query ? this.history.findIndex((h, k) => k >= from && h.includes(this.query)) : -1;
    if (i >= 0 || !this.query) this.at = i;
    this.show(this.query !== '' && i < 0);
  }

  private match(): string | null {
    return this.at >= 0 ? (this.history[this.at] ?? null) : null;
  }

  private show(failed: boolean): void {
    this.output.write(`\r\x1b[K(${failed ? 'failed ' : ''}reverse-i-search)'${this.query}': ${this.match() ?? ''}`);
  }

  /** Ends the search: readline takes the keys again, with `line` in place of its line (null: its own line back). */
  private end(line: string | null): void {
    this.active = false;
    for (const l of this.readlineListeners) this.input.on('keypress', l);
    if (line === null) {
      this.rl.prompt(true);
      return;
    }
    this.rl.write(null, { ctrl: true, name: 'e' });
    this.rl.write(null, { ctrl: true, name: 'u' });
    this.rl.write(line);
  }
}
