/**
 * Device-mapper tables in dmsetup's syntax (dmsetup(8) "TABLE FORMAT"): one target per line,
 * `<start> <length> <target> [<args>…]`, start and length in 512-byte sectors. Lines must cover
 * the device from sector 0 without gaps or overlaps. Blank lines and `#` comments are skipped.
 * Every refusal names the line: `line 2: striped: target length not divisible by chunk size 64`.
 */
import { SECTOR_SIZE } from '../block/ops.js';
import { TableError, type DmTarget, type TableContext, type TargetType } from './target.js';
import { linearType } from './targets/linear.js';
import { stripedType } from './targets/striped.js';
import { raidType } from './targets/raid.js';
import { cryptType } from './targets/crypt.js';

/** Every target type, one line each. */
export const TARGET_TYPES: readonly TargetType[] = [linearType, stripedType, raidType, cryptType];

/** Targets per table (a limit on everything). */
export const DM_MAX_TARGETS = 1024;
/** Arguments per line. */
export const DM_MAX_ARGS = 256;
/** Bytes of table text. */
export const DM_MAX_TABLE_BYTES = 1024 * 1024;

export interface TableEntry {
  /** Byte offset of the target on the dm device. */
  readonly start: number;
  readonly target: DmTarget;
  /** 1-based line of the table text (for messages). */
  readonly line: number;
}

export interface DmTable {
  readonly entries: readonly TableEntry[];
  /** Bytes. */
  readonly size: number;
}

function sectorsOf(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new TableError(`${what}: expected a sector count, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n * SECTOR_SIZE)) throw new TableError(`${what}: ${text} is too large`);
  return n;
}

/** Parses a table; throws TableError naming the line. */
export function parseTable(text: string, ctx: TableContext): DmTable {
  if (text.length > DM_MAX_TABLE_BYTES) throw new TableError(`table larger than ${DM_MAX_TABLE_BYTES} bytes`);
  const entries: TableEntry[] = [];
  let next = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*$/, '').trim();
    if (!line) continue;
    const where = `line ${i + 1}`;
    try {
      if (entries.length >= DM_MAX_TARGETS) throw new TableError(`more than ${DM_MAX_TARGETS} targets`);
      const words = line.split(/\s+/);
      if (words.length < 3) throw new TableError('expected <start> <length> <target> [<args>…]');
      if (words.length > DM_MAX_ARGS + 3) throw new TableError(`more than ${DM_MAX_ARGS} arguments`);
      const start = sectorsOf(words[0]!, 'start') * SECTOR_SIZE;
      const length = sectorsOf(words[1]!, 'length') * SECTOR_SIZE;
      if (length === 0) throw new TableError('zero-length target');
      if (start > next) throw new TableError(`gap in the table: sectors ${next / SECTOR_SIZE}..${start / SECTOR_SIZE - 1} are not mapped`);
      if (start < next) throw new TableError(`target overlaps the previous one: starts at ${start / SECTOR_SIZE}, the previous ends at ${next / SECTOR_SIZE}`);
      const type = TARGET_TYPES.find((t) => t.name === words[2]);
      if (!type) throw new TableError(`unknown target type ${JSON.stringify(words[2])} (known: ${TARGET_TYPES.map((t) => t.name).join(', ')})`);
      const target = type.create(words.slice(3), length, ctx);
      entries.push({ start, target, line: i + 1 });
      next = start + length;
    } catch (err) {
      if (err instanceof TableError) throw new TableError(`${where}: ${err.message}`);
      throw err;
    }
  }
  if (entries.length === 0) throw new TableError('empty table');
  return { entries, size: next };
}
