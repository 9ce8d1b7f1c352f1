/**
 * Docs that run: every fenced yaml, sh and ts block of README.md and docs/ is executed, unless it
 * is marked as an excerpt (test/docs/blocks.ts, CONTRIBUTING.md). Scenarios run (a list of steps
 * runs on the default lab, a `stack:` or `iscsi:` section on the default lab's devices);
 * `copylab` commands run as a user types them (a shell, `copylab` on PATH, examples/ at hand) with
 * their exit codes and shown output checked; TypeScript snippets are type-checked against the
 * built package and run with `import … from 'copylab'`. A doc that drifts from the code fails.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { blocksOf, docFiles, RUN_LANGS, type DocBlock } from './blocks.js';
import { parseScenario } from '../../src/app/scenario/parse.js';
import { buildLab, runScenario } from '../../src/app/scenario/run.js';
import { exportTargets } from '../../src/app/iscsi/scenario.js';
import { DEFAULT_SCENARIO_YAML } from '../../src/app/scenario/default-lab.js';

const ROOT = resolve('.');
const blocks = docFiles(ROOT).flatMap((f) => blocksOf(ROOT, f));
const runnable = (lang: string) => blocks.filter((b) => b.lang === lang && !b.excerpt);
const name = (b: DocBlock) => `${b.file}:${b.line}`;

describe('doc blocks', () => {
  it('every yaml, sh and ts block is run or marked as an excerpt; other languages are not code to run', () => {
    const langs = new Set(blocks.map((b) => b.lang));
    for (const l of langs) expect(['', 'yaml', 'sh', 'ts', 'json', 'text', 'c'], `${l} blocks: tag them yaml/sh/ts (run) or text`).toContain(l);
    expect(runnable('yaml').length + runnable('sh').length + runnable('ts').length).toBeGreaterThan(30);
    // Excerpts must stay the exception.
    const excerpts = blocks.filter((b) => (RUN_LANGS as readonly string[]).includes(b.lang) && b.excerpt);
    expect(excerpts.length).toBeLessThan(16);
  });
});

const defaultDoc = parseYaml(DEFAULT_SCENARIO_YAML) as Record<string, unknown>;

describe.each(runnable('yaml').map((b) => [name(b), b] as const))('yaml %s', (_n, b) => {
  it('runs as written', async () => {
    const doc = parseYaml(b.text) as unknown;
    let scenario: Record<string, unknown>;
    if (Array.isArray(doc)) scenario = { ...defaultDoc, steps: doc };
    else if (doc && typeof doc === 'object' && 'devices' in doc) scenario = doc as Record<string, unknown>;
    else if (doc && typeof doc === 'object' && ['stack', 'iscsi', 'lab'].some((k) => k in doc)) scenario = { ...defaultDoc, ...(doc as object), steps: [] };
    else scenario = { ...defaultDoc, steps: [doc] };
    const s = parseScenario(scenario, name(b));
    if (s.iscsi) {
      const lab = buildLab(s);
      try {
        expect(exportTargets(lab, s.iscsi).length).toBeGreaterThan(0);
      } finally {
        await lab.close();
      }
    }
    const report = await runScenario(s);
    const failed = report.steps.filter((r) => !r.ok).map((r) => `step ${r.step} ${r.kind}: ${r.message}`);
    if ((b.exit ?? 0) === 0) expect(failed, name(b)).toEqual([]);
    else expect(failed.length, name(b)).toBeGreaterThan(0);
  });
});

/** A user's shell: `copylab` on PATH, examples/ in the working directory. */
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'copylab-docs-'));
  mkdirSync(join(work, 'bin'));
  const shim = join(work, 'bin', 'copylab');
  writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, 'bin/copylab.js'))} "$@"\n`);
  chmodSync(shim, 0o755);
  symlinkSync(join(ROOT, 'examples'), join(work, 'examples'));
  return () => rmSync(work, { recursive: true, force: true });
});

interface ShCommand {
  readonly line: number;
  readonly cmd: string;
  readonly exit: number;
  readonly output: readonly string[];
}

/** Commands of an sh block: `copylab …` lines, or `$ copylab …` with the output that follows. */
export function shCommands(b: DocBlock): ShCommand[] {
  const out: ShCommand[] = [];
  const lines = b.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!raw.trim() || raw.trim().startsWith('#')) continue;
    const transcript = raw.startsWith('$ ');
    const text = transcript ? raw.slice(2) : raw;
    const exitM = /#\s*exit\s+(\d+)\s*$/.exec(text);
    let cmd = text.replace(/\s+#.*$/, '').trim();
    // A here-document: the lines up to its delimiter belong to the command.
    const here = /<<-?\s*'?([A-Za-z_]+)'?/.exec(cmd);
    if (here) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i]!.trim() !== here[1]; i++) body.push(lines[i]!);
      cmd = `${cmd}\n${body.join('\n')}\n${here[1]}`;
    }
    const output: string[] = [];
    if (transcript) for (; i + 1 < lines.length && !lines[i + 1]!.startsWith('$ '); i++) if (lines[i + 1]!.trim()) output.push(lines[i + 1]!);
    out.push({ line: b.line + i + 1, cmd, exit: exitM ? Number(exitM[1]) : b.exit ?? 0, output });
  }
  return out;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

describe.each(runnable('sh').map((b) => [name(b), b] as const))('sh %s', (_n, b) => {
  it('runs as written, with the exit codes and output shown', () => {
    const cmds = shCommands(b);
    for (const c of cmds) expect(c.cmd, `${b.file}:${c.line}: only copylab commands run here; mark the block as an excerpt`).toMatch(/^copylab\b/);
    for (const c of cmds) {
      const r = spawnSync('sh', ['-c', c.cmd], { cwd: work, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PATH: `${join(work, 'bin')}:${process.env.PATH}` } });
      expect(r.status, `${b.file}:${c.line}: ${c.cmd}\n${r.stderr}`).toBe(c.exit);
      let at = 0;
      const got = squash(r.stdout + r.stderr);
      for (const want of c.output) {
        if (want.trim() === '…') continue;
        const k = got.indexOf(squash(want), at);
        expect(k, `${b.file}:${c.line}: ${c.cmd}: expected output line\n  ${want}\nin\n${r.stdout}${r.stderr}`).toBeGreaterThanOrEqual(0);
        at = k + squash(want).length;
      }
    }
  });
});

const tsBlocks = runnable('ts');
const TS_DIR = join(ROOT, '.doc-test');

describe('ts blocks', () => {
  let emitted: string[] = [];
  beforeAll(() => {
    rmSync(TS_DIR, { recursive: true, force: true });
    mkdirSync(TS_DIR, { recursive: true });
    const files = tsBlocks.map((b, i) => {
      const f = join(TS_DIR, `${b.file.replace(/[/.]/g, '_')}_${b.line}_${i}.mts`);
      writeFileSync(f, `${b.text}\nexport {};\n`);
      return f;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2023,
      lib: ['lib.es2024.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      strict: true,
      skipLibCheck: true,
      outDir: TS_DIR,
      rootDir: TS_DIR,
    });
    const diags = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const block = d.file ? tsBlocks[files.indexOf(d.file.fileName)] : undefined;
      return `${block ? `${block.file}:${block.line + 1 + (where?.line ?? 0)}` : d.file?.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(diags, 'TypeScript snippets must compile against the built package').toEqual([]);
    program.emit();
    emitted = files.map((f) => f.replace(/\.mts$/, '.mjs'));
    return () => rmSync(TS_DIR, { recursive: true, force: true });
  }, 120_000);

  it.each(tsBlocks.map((b, i) => [name(b), i] as const))('%s runs against the built package', (_n, i) => {
    const r = spawnSync(process.execPath, [emitted[i]!], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, `${name(tsBlocks[i]!)}\n${r.stderr}`).toBe(0);
  });
});
