/**
 * Fenced code blocks of the README and docs/, with what the doc test needs to know about each:
 * its language, whether it is marked as an excerpt, and an expected exit code.
 *
 * Conventions (CONTRIBUTING.md, "Docs that run"):
 *   ```yaml / ```sh / ```ts            run by test/docs/docs.test.ts
 *   ```yaml excerpt (or sh/ts excerpt) shown, not run (a fragment, a sketch, needs a network peer)
 *   <!-- doc-test: excerpt -->          the same, on the line before the fence
 *   <!-- doc-test: exit 1 -->           the block (a scenario, or each sh command) must exit 1
 * Inside sh blocks a trailing `# exit N` comment sets one command's expected exit code, and a
 * line starting with `$ ` is a command whose following lines (up to the next `$ ` or the end)
 * are expected output: each must appear in order in what the command prints (`…` skips).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_LANGS = ['yaml', 'sh', 'ts'] as const;
export type RunLang = (typeof RUN_LANGS)[number];

export interface DocBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly excerpt: boolean;
  readonly exit?: number;
  readonly text: string;
}

const FENCE = /^(\s*)```(.*)$/;
const MARK = /^<!--\s*doc-test:\s*(.*?)\s*-->\s*$/;

export function docFiles(root: string): string[] {
  return ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

export function blocksOf(root: string, file: string): DocBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const out: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE.exec(lines[i]!);
    if (!m) continue;
    const info = m[2]!.trim().split(/\s+/).filter(Boolean);
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(m[1]!.length));
    const mark = start > 0 ? MARK.exec(lines[start - 1]!)?.[1] ?? '' : '';
    const marks = mark.split(/[\s,]+/).filter(Boolean);
    const exitMark = /exit\s+(\d+)/.exec(mark);
    out.push({
      file,
      line: start + 1,
      lang: info[0] ?? '',
      excerpt: info.includes('excerpt') || marks.includes('excerpt'),
      ...(exitMark ? { exit: Number(exitMark[1]) } : {}),
      text: body.join('\n'),
    });
  }
  return out;
}
