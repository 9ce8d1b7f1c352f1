/**
 * `copylab shell [--scenario FILE]`: one lab kept alive across lines, so state carries from one
 * command to the next (a suspended dm device, a ROD token, a sysfs write, injected faults).
 * Each line is either one of copylab's own subcommands (`dmsetup suspend lin`, `scsi
 * populate-token /dev/sda --range 0:8`) or a scenario step written as YAML (`copy: { dev: …,
 * ranges: […] }`). Interactive on a terminal (node:readline: history kept in
 * ~/.copylab_history, Ctrl-R searches it, Tab completes commands, subcommands, step kinds and
 * device paths; Ctrl-C clears the line being typed, or stops waiting for the line running, which
 * goes on in the background as a job; Ctrl-D ends);
 * scriptable from stdin (`copylab shell < script`), where each line is echoed after `copylab> `.
 * Variables as in sh: `tok=$(scsi populate-token /dev/sda --range 0:8)` keeps a command's output
 * (trimmed), `$tok` or `${tok}` uses it (not inside single quotes); `name=value` sets one.
 * A line ending in `&` runs in the background (a copy on a suspended dm device waits for
 * `dmsetup resume`); `wait` waits for background lines, as does the end of input, each at most
 * --wait-timeout seconds: then the lines still running are cancelled (named on stderr, exit 1).
 * The exit code is 0 when every line succeeded, else the last failing line's code.
 */
import { createInterface, type Interface } from 'node:readline';
import { appendFileSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildLab, runStep } from '../../scenario/run.js';
import { parseStepsText } from '../../scenario/parse.js';
import { STEP_KINDS } from '../../scenario/registry.js';
import { formatTable } from '../../scenario/report.js';
import { ScenarioError } from '../../scenario/fields.js';
import type { Lab } from '../../lab.js';
import type { StepResult } from '../../scenario/run.js';
import type { ScenarioFileOptions } from '../../scenario/data-file.js';
import { labDevices } from './lab.js';
import { ReverseSearch } from '../reverse-search.js';
import { cliInt } from '../numbers.js';
import { allowOutsidePathsOption, EXIT_FAILED, EXIT_OK, EXIT_USAGE, scenarioFrom, setShellLab, UsageError, type SetExit } from '../common.js';

/**
 * Limits of a shell: line length, lines kept in the history file, variables and their size,
 * background lines, and how long `wait` and the end of input wait for background lines before
 * cancelling them (seconds: the default of --wait-timeout, and its largest value).
 */
export const SHELL_LIMITS = { lineBytes: 64 * 1024, history: 1000, variables: 256, valueBytes: 64 * 1024, jobs: 64, waitSeconds: 60, maxWaitSeconds: 24 * 3600 } as const;

/** Replaces $name and ${name} outside single quotes; an unset variable is an error (not ''). */
export function expandVariables(line: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  let single = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") single = !single;
    if (c === '$' && !single) {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(line.slice(i));
      if (m) {
        const name = (m[1] ?? m[2])!;
        const v = vars.get(name);
        if (v === undefined) throw new UsageError(`$${name} is not set (set it with ${name}=$(command) or ${name}=value)`);
        out += v;
        i += m[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** Runs fn with process.stdout captured; returns what it wrote and its result. */
async function captureStdout(fn: () => Promise<number>): Promise<[string, number]> {
  const write = process.stdout.write;
  let text = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await fn();
    return [text, code];
  } finally {
    process.stdout.write = write;
  }
}
const PROMPT = 'copylab> ';
/** A line's code when Ctrl-C stopped the wait for it: 128 + SIGINT, as shells give. */
export const EXIT_INTERRUPTED = 130;
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

/** The block devices of a live lab as steps name them (nullb0, mapper/lin, dm-0), with their scenario kind. */
function labNames(lab: Lab): Map<string, string> {
  const kind = { nullblk: 'nullblk', nvme: 'nvme', sd: 'scsi', dm: 'dm', other: 'other' } as const;
  return new Map([...labDevices(lab).map((d): [string, string] => [d.device.slice('/dev/'.length), kind[d.kind]]), ...lab.dm.names().map((n): [string, string] => [`mapper/${n}`, 'dm'])]);
}

/** `kind: …` or `- kind: …` with a step kind: a scenario step. */
function stepKindOf(line: string): string | undefined {
  const m = /^(?:-\s+)?([a-z_]+):(\s|$)/.exec(line);
  return m && STEP_KINDS.some((s) => s.kind === m[1]) ? m[1] : undefined;
}

async function runStepLine(lab: Lab, text: string, n: number, files: ScenarioFileOptions): Promise<number> {
  const steps = parseStepsText(text, labNames(lab), `line ${n}`, files);
  const results: StepResult[] = [];
  for (const [i, step] of steps.entries()) results.push(await runStep(lab, step, i));
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

/** Tab completion: commands, their subcommands, step kinds, device paths, sysfs paths. */
export function completer(program: Command, lab: Lab) {
  return (line: string): [string[], string] => {
    const words = line.split(/\s+/);
    const last = words[words.length - 1] ?? '';
    let choices: string[];
    if (last.startsWith('/dev/')) choices = [...labNames(lab).keys()].map((n) => `/dev/${n}`);
    else if (last.startsWith('/sys/')) choices = sysfsChoices(lab, last);
    else if (words.length <= 1) choices = [...program.commands.filter((c) => !NOT_IN_SHELL.has(c.name())).map((c) => c.name()), ...STEP_KINDS.map((s) => `${s.kind}:`), 'help', 'exit'];
    else {
      const cmd = program.commands.find((c) => c.name() === words[0]);
      choices = words.length === 2 && cmd?.commands.length ? cmd.commands.map((c) => c.name()) : (cmd?.commands.find((c) => c.name() === words[1]) ?? cmd)?.options.map((o) => o.long ?? '').filter(Boolean) ?? [];
    }
    const hits = choices.filter((c) => c.startsWith(last));
    return [hits.length ? hits : choices, last];
  };
}

/** The entries of the sysfs folder a partial path is in, as full paths (folders end in '/'). */
function sysfsChoices(lab: Lab, partial: string): string[] {
  const dir = partial.slice(0, partial.lastIndexOf('/') + 1);
  const r = lab.sysfs.ls(dir === '/' ? '/' : dir.slice(0, -1));
  return (r.entries ?? []).map((e) => `${dir}${e.name}${e.type === 'dir' ? '/' : ''}`);
}

const HISTORY_FILE = (): string => join(homedir(), '.copylab_history');

function loadHistory(): string[] {
  try {
    return readFileSync(HISTORY_FILE(), 'utf8').split('\n').filter(Boolean).slice(-SHELL_LIMITS.history).reverse();
  } catch {
    return [];
  }
}

/**
 * What the shell needs of the command line it runs inside: a fresh program (for help and
 * completion) and a way to run one command line. main.ts passes its own, so this module does
 * not import main.ts (which imports every command, this one included).
 */
export interface ShellCli {
  makeProgram(setExit: SetExit): Command;
  runCommand(argv: readonly string[]): Promise<number>;
}

export function registerShell(program: Command, setExit: SetExit, cli: ShellCli): void {
  allowOutsidePathsOption(program.command('shell'))
    .description('keep one lab alive and take copylab commands and scenario steps line by line (interactive, or a script on stdin)')
    .option('-s, --scenario <file>', 'scenario whose devices and stack make up the lab (its steps are not run; default: the default lab)')
    .option('--wait-timeout <seconds>', `how long \`wait\` and the end of input wait for background lines before cancelling them (1..${SHELL_LIMITS.maxWaitSeconds})`, String(SHELL_LIMITS.waitSeconds))
    .action(async (opts: { scenario?: string; allowOutsidePaths?: boolean; waitTimeout: string }) => {
      const { runCommand, makeProgram } = cli;
      const waitSeconds = cliInt(opts.waitTimeout, '--wait-timeout', SHELL_LIMITS.maxWaitSeconds, 1);
      const scenario = scenarioFrom(opts.scenario, opts);
      // Step lines are typed here: their data_file paths resolve against the working directory.
      const files: ScenarioFileOptions = { allowOutsidePaths: opts.allowOutsidePaths === true };
      const lab = buildLab(scenario);
      const source = opts.scenario ?? 'default lab';
      setShellLab({ lab, scenario, source });
      const tty = !!process.stdin.isTTY && !!process.stdout.isTTY;
      const helpProgram = makeProgram(() => {});
      const history = tty ? loadHistory() : [];
      const keyListeners = process.stdin.listeners('keypress');
      const rl: Interface = createInterface({
        input: process.stdin,
        ...(tty ? { output: process.stdout, terminal: true, history: [...history], historySize: SHELL_LIMITS.history, completer: completer(helpProgram, lab) } : { terminal: false }),
      });
      if (tty) new ReverseSearch(rl, process.stdin, process.stdout, keyListeners, history);
      /** Stops waiting for the line running in the foreground; null while none runs. */
      let interrupt: (() => void) | null = null;
      // Ctrl-C (readline's SIGINT on a terminal; without a listener it would close the shell and its lab).
      rl.on('SIGINT', () => {
        if (interrupt) return interrupt();
        process.stdout.write('^C\n');
        rl.write(null, { ctrl: true, name: 'e' });
        rl.write(null, { ctrl: true, name: 'u' });
        rl.prompt();
      });
      let worst = EXIT_OK;
      let n = 0;
      const vars = new Map<string, string>();
      /** One line: a step, a command, or an assignment; returns its exit code. */
      const runLine = async (line: string): Promise<number> => {
        const assign = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
        if (assign) {
          const [, name, rhs] = assign as unknown as [string, string, string];
          if (!vars.has(name) && vars.size >= SHELL_LIMITS.variables) throw new UsageError(`at most ${SHELL_LIMITS.variables} variables`);
          const sub = /^\$\((.*)\)$/.exec(rhs.trim());
          let value: string;
          let code = EXIT_OK;
          if (sub) [value, code] = await captureStdout(() => runLine(sub[1]!.trim()));
          else value = splitWords(expandVariables(rhs, vars)).join(' ');
          value = value.trim();
          if (value.length > SHELL_LIMITS.valueBytes) throw new UsageError(`${name}: value longer than ${SHELL_LIMITS.valueBytes} characters`);
          vars.set(name, value);
          if (sub) process.stdout.write(`${name} = ${value.length > 40 ? `${value.slice(0, 32)}… (${value.length} characters)` : value}\n`);
          return code;
        }
        const text = expandVariables(line, vars);
        if (stepKindOf(text)) return runStepLine(lab, text, n, files);
        const argv = splitWords(text);
        if (argv[0] === 'copylab') argv.shift();
        if (NOT_IN_SHELL.has(argv[0] ?? '')) throw new UsageError(`${argv[0]}: not available inside the shell`);
        return runCommand(argv);
      };
      if (tty) process.stdout.write(`copylab shell on the ${source}: \`lab\` shows it, \`help\` lists commands, Ctrl-D ends.\n`);
      const jobs = new Map<number, { line: string; done: Promise<number>; cancelled: boolean }>();
      let jobId = 0;
      /** A line running in the background as job N: `[N] done (exit C)` when it finishes, `wait` waits for it. */
      const startJob = (body: string, running: Promise<number>): number => {
        const id = ++jobId;
        const job = { line: body, done: Promise.resolve(EXIT_OK), cancelled: false };
        job.done = running.catch((err: unknown) => {
          if (!(err instanceof UsageError || err instanceof ScenarioError)) throw err;
          if (!job.cancelled) process.stderr.write(`copylab: ${err.message}\n`);
          return EXIT_USAGE;
        }).then((c) => {
          if (!job.cancelled) process.stdout.write(`[${id}] done (exit ${c}): ${body}\n`);
          return c;
        });
        jobs.set(id, job);
        return id;
      };
      /**
       * Runs a line in the foreground. Ctrl-C stops the wait, not the line (a command inside the
       * lab cannot be stopped halfway): it goes on as a background job, or when the jobs are
       * full is left to the lab, its result no longer reported. The line's code is then 130.
       */
      const foreground = async (line: string): Promise<number> => {
        const running = runLine(line);
        const stopped = new Promise<'interrupted'>((resolve) => (interrupt = () => resolve('interrupted')));
        try {
          const r = await Promise.race([running, stopped]);
          if (r !== 'interrupted') return r;
          if (jobs.size < SHELL_LIMITS.jobs) {
            process.stdout.write(`^C\n[${startJob(line, running)}] still running, now in the background (\`wait\` waits for it): ${line}\n`);
          } else {
            running.catch(() => {});
            process.stdout.write(`^C\nstill running, left to the lab (${SHELL_LIMITS.jobs} background lines already; its result is not reported): ${line}\n`);
          }
          return EXIT_INTERRUPTED;
        } finally {
          interrupt = null;
        }
      };
      /** Waits for the background lines, at most waitSeconds; those still running then are cancelled. */
      const waitJobs = async (what: string): Promise<number> => {
        let code = EXIT_OK;
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), waitSeconds * 1000)));
        try {
          for (const [id, job] of [...jobs]) {
            const c = await Promise.race([job.done, expired]);
            if (c === 'expired') break;
            jobs.delete(id);
            if (c !== EXIT_OK) code = c;
          }
        } finally {
          clearTimeout(timer);
        }
        for (const [id, job] of [...jobs]) {
          // The line is left to the lab (closed at the end of the shell); its result is no longer reported.
          job.cancelled = true;
          job.done.catch(() => {});
          jobs.delete(id);
          process.stderr.write(`copylab: ${what}: [${id}] still running after ${waitSeconds} s (--wait-timeout), cancelled: ${job.line}\n`);
          code = EXIT_FAILED;
        }
        return code;
      };
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
            else if (line === 'wait') code = await waitJobs('wait');
            else if (line.endsWith('&')) {
              if (jobs.size >= SHELL_LIMITS.jobs) throw new UsageError(`at most ${SHELL_LIMITS.jobs} background lines; \`wait\` for them`);
              const body = line.slice(0, -1).trim();
              const id = startJob(body, runLine(body));
              process.stdout.write(`[${id}] running in the background: ${body}\n`);
            } else code = tty ? await foreground(line) : await runLine(line);
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
        const c = await waitJobs('end of input');
        if (c !== EXIT_OK) worst = c;
      } finally {
        rl.close();
        setShellLab(undefined);
        await lab.close();
      }
      setExit(worst);
    });
}
