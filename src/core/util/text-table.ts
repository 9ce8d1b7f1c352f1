/**
 * A box-drawn text table whose cost grows linearly with its rows, for reports that may have
 * thousands of them (a scenario report: up to 10,000 steps). Looks like cli-table3's default
 * style with row separators off (which the short tables elsewhere still use); cli-table3 lays
 * cells out for row spans, which costs time quadratic in the number of rows.
 */

export type Align = 'left' | 'right';

export interface TextTableOptions {
  readonly head: readonly string[];
  readonly aligns?: readonly Align[];
  /** Wrap the last column at spaces to this many characters (the cell's text, padding excluded). */
  readonly lastColumnWidth?: number;
  readonly color?: boolean;
}

/** Blank columns either side of a cell's text. */
const PAD = 1;
const CYAN = ['\x1b[36m', '\x1b[39m'] as const;
const GREY = ['\x1b[90m', '\x1b[39m'] as const;

/** Text that fits `width`, cut at spaces where it can and hard where a word is longer. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (let word of para.split(' ')) {
      while (word.length > width) {
        if (line) lines.push(line);
        lines.push(word.slice(0, width));
        word = word.slice(width);
        line = '';
      }
      if (!line) line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

export function formatTextTable(rows: readonly (readonly (string | number)[])[], o: TextTableOptions): string {
  const cols = o.head.length;
  const paint = (c: readonly [string, string], s: string): string => (o.color && s ? `${c[0]}${s}${c[1]}` : s);
  const cells = (row: readonly (string | number)[]): string[][] =>
    Array.from({ length: cols }, (_, i) => {
      const text = String(row[i] ?? '');
      return i === cols - 1 && o.lastColumnWidth !== undefined ? wrapText(text, o.lastColumnWidth) : text.split('\n');
    });
  const body = rows.map(cells);
  const head = cells(o.head);
  const widths = Array.from({ length: cols }, (_, i) => {
    let w = 0;
    for (const r of [head, ...body]) for (const line of r[i]!) w = Math.max(w, line.length);
    return i === cols - 1 && o.lastColumnWidth !== undefined ? o.lastColumnWidth : w;
  });
  const rule = (l: string, m: string, r: string): string => paint(GREY, l + widths.map((w) => '─'.repeat(w + 2 * PAD)).join(m) + r);
  const bar = paint(GREY, '│');
  const render = (r: string[][], isHead: boolean): string[] => {
    const height = Math.max(...r.map((c) => c.length));
    const out: string[] = [];
    for (let k = 0; k < height; k++) {
      const parts = r.map((c, i) => {
        const text = c[k] ?? '';
        const fill = ' '.repeat(widths[i]! - text.length);
        const shown = isHead ? paint(CYAN, text) : text;
        return ' '.repeat(PAD) + (o.aligns?.[i] === 'right' ? fill + shown : shown + fill) + ' '.repeat(PAD);
      });
      out.push(bar + parts.join(bar) + bar);
    }
    return out;
  };
  const lines = [rule('┌', '┬', '┐'), ...render(head, true)];
  for (const r of body) for (const l of render(r, false)) lines.push(l);
  lines.push(rule('└', '┴', '┘'));
  return lines.join('\n');
}
