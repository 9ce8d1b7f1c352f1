import { describe, expect, it } from 'vitest';
import { formatTable, wrapNote, NOTE_MAX_LINES } from '../../src/app/scenario/report.js';
import type { StepResult } from '../../src/app/scenario/run.js';

const long = 'nullb0 (domain d0) and nullb3 (domain d1) are not in one copy domain; '.repeat(4).trim();
const step = (note: string): StepResult => ({ step: 1, kind: 'copy', target: '/dev/nullb3', ok: true, res: 4096, path: 'emulated', pieces: 1, offloaded_pieces: 0, bytes: 4096, host_bytes: 8192, reason: note, errno: null, wall_ms: 1.5, modeled_us: 0 });

describe('the scenario table at a terminal width', () => {
  it('wraps notes at word boundaries to what the other columns leave, and cuts them after a few lines', () => {
    const w = wrapNote(long, 40);
    expect(w.lines).toHaveLength(NOTE_MAX_LINES);
    expect(w.cut).toBe(true);
    for (const l of w.lines) expect(l.length).toBeLessThanOrEqual(40);
    expect(w.lines[NOTE_MAX_LINES - 1]!.endsWith('…')).toBe(true);
    expect(wrapNote('short note', 40)).toEqual({ lines: ['short note'], cut: false });
  });

  it('no line of the table is wider than the terminal; the table says where the full notes are', () => {
    for (const width of [110, 140, 200]) {
      const text = formatTable({ ok: true, steps: [step(long), step('offloaded')] }, { width });
      for (const line of text.split('\n')) expect(line.length, `${width}: ${line}`).toBeLessThanOrEqual(width);
      if (width < 200) expect(text).toMatch(/--json prints them in full/);
      else expect(text).toContain('not in one copy domain; nullb0');
    }
  });

  it('without a width (a pipe, a file) notes stay whole', () => {
    const text = formatTable({ ok: true, steps: [step(long)] });
    expect(text).toContain(long);
    expect(text).not.toMatch(/--json prints them/);
  });
});
