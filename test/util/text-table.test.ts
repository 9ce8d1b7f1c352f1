import { describe, expect, it } from 'vitest';
import Table from 'cli-table3';
import { formatTextTable, wrapText } from '../../src/core/util/text-table.js';

const head = ['#', 'step', 'bytes', 'note'];
const rows = [
  [1, 'fill', '4MiB', ''],
  [2, 'copy', '0', 'refused: EINVAL (range 0 overlaps)'],
  [10, 'verify', '16MiB', '= 1048576'],
];

describe('text table', () => {
  it('draws the same table as cli-table3 with row separators off', () => {
    const peer = new Table({
      head,
      colAligns: ['right', 'left', 'right', 'left'],
      chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
      style: { head: [], border: [] },
    });
    for (const r of rows) peer.push(r);
    expect(formatTextTable(rows, { head, aligns: ['right', 'left', 'right', 'left'] })).toBe(peer.toString());
  });

  it('wraps the last column to its width and keeps every line the same length', () => {
    const long = [[1, 'copy', '0', 'refused: EINVAL (/sys/block/nullb0/queue/copy_max_bytes: Invalid argument: 1000 is not a multiple)']];
    const out = formatTextTable(long, { head, lastColumnWidth: 20 });
    const lines = out.split('\n');
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines.length).toBeGreaterThan(5);
    expect(wrapText('aaaa bbbb cccccccccc', 4)).toEqual(['aaaa', 'bbbb', 'cccc', 'cccc', 'cc']);
  });

  it('has one line per row (10,000 rows)', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => [i + 1, 'sysfs', '', '= 131072']);
    expect(formatTextTable(many, { head }).split('\n')).toHaveLength(10_000 + 3);
  });
});
