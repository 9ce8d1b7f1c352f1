/**
 * `copylab shell [--scenario FILE]`: one lab kept alive across lines, so state carries from one
 * command to the next (a suspended dm device, a ROD token, a sysfs write, injected faults).
 * Each line is either one of copylab's own subcommands (`dmsetup suspend lin`, `scsi
 * populate-token /dev/sda --range 0:8`) or a scenario step written as YAML (`copy: { dev: …,
 * ranges: […] }`). Interactive on a terminal (node:readline: history kept in
 * ~/.copylab_history, Tab completes commands, subcommands, step kinds and device paths);
 * scriptable from stdin (`copylab shell < script`), where each line is echoed after `copylab> `.
 * The exit code is 0 when every line succeeded, else the last failing line's code.
 */
import { createInterface, type Interface } from 'node:readline';
import { appendFileSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildLab } from '../../scenario/run.js';
import { parseStepsText } from '../../scenario/parse.js';
import { STEP_KINDS } from '../../scenario/registry.js';
import { formatTable } from '../../scenario/report.js';
import { Trace } from '../../block/trace.js';
import { errnoName } from '../../util/errno.js';
import { ScenarioError } from '../../scenario/fields.js';
import type { Lab } from '../../lab.js';
import type { StepResult } from '../../scenario/run.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, scenarioFrom, setShellLab, UsageError, type SetExit } from '../common.js';

/** Limits of a shell: line length, lines kept in the history file. */
export const SHELL_LIMITS = { lineBytes: 64 * 1024, history: 1000 } as const;
const PROMPT = 'copylab> ';
/** Commands that make no sense inside a shell (a second shell; a server that would block it). */
const NOT_IN_SHELL = new Set(['shell', 'serve']);

/** Splits a command line as a POSIX shell would for words: quotes and backslashes, no expansion. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`unterminated ${quote} quote`);
  if (inWord) words.push(cur);
  return words;
}

/** The block device names of a live lab, as steps name them (nullb0, mapper/lin, dm-0). */
function labNames(lab: Lab): Set<string> {
  return new Set([...lab.list().map((d) => d.name), ...lab.dm.names().map((n) => `mapper/${n}`)]);
}

/** `kind: …` or `- kind: …` with a step kind: a scenario step. */
function stepKindOf(line: string): string | undefined {
  const m = /^(?:-\s+)?([a-z_]+):(\s|$)/.exec(line);
  return m && STEP_KINDS.some((s) => s.kind === m[1]) ? m[1] : undefined;
}

async function runStep(lab: Lab, text: string, n: number): Promise<number> {
  const steps = parseStepsText(text, labNames(lab), `line ${n}`);
  const results: StepResult[] = [];
  for (const [i, step] of steps.entries()) {
    const t0 = process.hrtime.bigint();
    const trace = new Trace();
    let outcome;
    try {
      outcome = await step.run(lab, trace);
    } catch (err) {
      outcome = { target: '', res: -5, ok: false, message: `internal error: ${(err as Error).message}` };
    }
    results.push({ step: i + 1, kind: step.kind, errno: outcome.res < 0 ? errnoName(outcome.res) : null, ...outcome, wall_ms: Number(process.hrtime.bigint() - t0) / 1e6 });
  }
  const report = { ok: results.every((r) => r.ok), steps: results };
  const tty = process.stdout.isTTY;
  process.stdout.write(`${formatTable(report, tty ? { color: true, width: process.stdout.columns } : {})}\n`);
  return report.ok ? EXIT_OK : EXIT_FAILED;
}

function shellHelp(program: Command): string {
  const cmds = program.commands.filter((c) => !NOT_IN_SHELL.has(c.name())).map((c) => `  ${c.name().padEnd(20)} ${c.description()}`);
  return [
    'Each line is a copylab command (without "copylab") or a scenario step in YAML; the lab stays alive between lines.',
    'Commands:',
    ...cmds,
    `Steps (\`copylab explain STEP\` for their keys): ${STEP_KINDS.map((s) => s.kind).join(', ')}`,
    '  e.g.  copy: { dev: /dev/nullb0, ranges: [ { src: 0, dst: 16MiB, length: 1MiB } ] }',
    'help, exit (or end of input).',
  ].join('\n');
}

/** Tab completion: commands, their subcommands, step kinds, device paths. */
function completer(program: Command, lab: Lab) {
  return (line: string): [string[], string] => {
    const words = line.split(/\s+/);
    const last = words[words.length - 1] ?? '';
    let choices: string[];
    if (last.startsWith('/dev/')) choices = [...labNames(lab)].map((n) => `/dev/${n}`);
    else if (words.length <= 1) choices = [...program.commands.filter((c) => !NOT_IN_SHELL.has(c.name())).map((c) => c.name()), ...STEP_KINDS.map((s) => `${s.kind}:`), 'help', 'exit'];
    else {
      const cmd = program.commands.find((c) => c.name() === words[0]);
      choices = words.length === 2 && cmd?.commands.length ? cmd.commands.map((c) => c.name()) : (cmd?.commands.find((c) => c.name() === words[1]) ?? cmd)?.options.map((o) => o.long ?? '').filter(Boolean) ?? [];
    }
    const hits = choices.filter((c) => c.startsWith(last));
    return [hits.length ? hits : choices, last];
  };
}

const HISTORY_FILE = (): string => join(homedir(), '.copylab_history');

function loadHistory(): string[] {
  try {
    return readFileSync(HISTORY_FILE(), 'utf8').split('\n').filter(Boolean).slice(-SHELL_LIMITS.history).reverse();
  } catch {
    return [];
  }
}

export function registerShell(program: Command, setExit: SetExit): void {
  program
    .command('shell')
    .description('keep one lab alive and take copylab commands and scenario steps line by line (interactive, or a script on stdin)')
    .option('-s, --scenario <file>', 'scenario whose devices and stack make up the lab (its steps are not run; default: the default lab)')
    .action(async (opts: { scenario?: string }) => {
      const { runCommand, makeProgram } = await import('../main.js');
      const scenario = scenarioFrom(opts.scenario);
      const lab = buildLab(scenario);
      const source = opts.scenario ?? 'default lab';
      setShellLab({ lab, scenario, source });
      const tty = !!process.stdin.isTTY && !!process.stdout.isTTY;
      const helpProgram = makeProgram(() => {});
      const rl: Interface = createInterface({
        input: process.stdin,
        ...(tty ? { output: process.stdout, terminal: true, history: loadHistory(), historySize: SHELL_LIMITS.history, completer: completer(helpProgram, lab) } : { terminal: false }),
      });
      let worst = EXIT_OK;
      let n = 0;
      if (tty) process.stdout.write(`copylab shell on the ${source}: \`lab\` shows it, \`help\` lists commands, Ctrl-D ends.\n`);
      try {
        if (tty) rl.setPrompt(PROMPT), rl.prompt();
        for await (const raw of rl) {
          n++;
          const line = raw.trim();
          if (!tty && line && !line.startsWith('#')) process.stdout.write(`${PROMPT}${line}\n`);
          let code = EXIT_OK;
          try {
            if (!line || line.startsWith('#')) code = EXIT_OK;
            else if (line.length > SHELL_LIMITS.lineBytes) throw new UsageError(`line ${n}: longer than ${SHELL_LIMITS.lineBytes} characters`);
            else if (line === 'exit' || line === 'quit') break;
            else if (line === 'help' || line === '?') process.stdout.write(`${shellHelp(helpProgram)}\n`);
            else if (stepKindOf(line)) code = await runStep(lab, line, n);
            else {
              const argv = splitWords(line);
              if (argv[0] === 'copylab') argv.shift();
              if (NOT_IN_SHELL.has(argv[0] ?? '')) throw new UsageError(`${argv[0]}: not available inside the shell`);
              code = await runCommand(argv);
            }
            if (tty && line) {
              try {
                appendFileSync(HISTORY_FILE(), `${line}\n`);
              } catch {
                // History is a convenience: an unwritable home directory does not stop the shell.
              }
            }
          } catch (err) {
            if (!(err instanceof UsageError || err instanceof ScenarioError)) throw err;
            process.stderr.write(`copylab: ${err.message}\n`);
            code = EXIT_USAGE;
          }
          if (code !== EXIT_OK) worst = code;
          if (tty) rl.prompt();
        }
      } finally {
        rl.close();
        setShellLab(undefined);
        await lab.close();
      }
      setExit(worst);
    });
}
