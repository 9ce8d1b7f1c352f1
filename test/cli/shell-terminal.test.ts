import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `copylab shell` on a terminal, as a user types at it: a pseudo-terminal from util-linux
 * `script`, keys written to it (Ctrl-C is byte 3, Ctrl-D 4, Ctrl-G 7, Ctrl-R 18, Backspace 127), each after the
 * screen shows what it waits for.
 */
function terminalShell(home: string) {
  const cmd = `${JSON.stringify(process.execPath)} bin/copylab.js shell`;
  const p = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: home } });
  let screen = '';
  let seen = 0;
  p.stdout.setEncoding('utf8');
  p.stdout.on('data', (d: string) => (screen += d));
  const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  return {
    /** Waits until the screen shows `re` after what an earlier wait saw. */
    waitFor(re: RegExp): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${re} on the screen; it shows:\n${screen}`)), 60_000);
        const check = (): void => {
          // The screen's text without its colours and cursor moves.
          const m = screen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').slice(seen).match(re);
          if (!m) return void setTimeout(check, 20);
          clearTimeout(t);
          seen += m.index! + m[0].length;
          resolve(m);
        };
        check();
      });
    },
    type: (keys: string): boolean => p.stdin.write(keys),
    exited,
  };
}

const PROMPT = /copylab> /;

describe('copylab shell on a terminal', () => {
  it('Ctrl-C clears the line being typed and stops the wait for a running line (it goes on in the background); Ctrl-R finds a history line, Ctrl-G leaves the search', async () => {
    const home = mkdtempSync(join(tmpdir(), 'copylab-shell-tty-'));
    writeFileSync(join(home, '.copylab_history'), 'sysfs cat /sys/block/nullb0/queue/copy_max_bytes\nlab\n');
    const sh = terminalShell(home);
    await sh.waitFor(PROMPT);
    // Ctrl-C on a half-typed line: the line is dropped and the shell (and its lab) stays.
    sh.type('fill: {');
    await sh.waitFor(/fill: \{/);
    sh.type('\x03');
    await sh.waitFor(/\^C\r*\n/);
    await sh.waitFor(PROMPT);
    sh.type('help\r');
    await sh.waitFor(/Each line is a copylab command/);
    await sh.waitFor(PROMPT);
    // Ctrl-R: the newest history line holding the query; Enter runs it.
    sh.type('\x12copy_max');
    await sh.waitFor(/\(reverse-i-search\)'copy_max': sysfs cat \/sys\/block\/nullb0\/queue\/copy_max_bytes/);
    sh.type('\x12zzz');
    await sh.waitFor(/\(failed reverse-i-search\)'copy_maxzzz': sysfs cat/);
    sh.type('\x7f\x7f\x7f\r');
    await sh.waitFor(/\r*\n1048576\r*\n/);
    await sh.waitFor(PROMPT);
    // Ctrl-G gives back the line as it was before the search.
    sh.type('help');
    await sh.waitFor(/help/);
    sh.type('\x12sysfs');
    await sh.waitFor(/\(reverse-i-search\)'sysfs': sysfs cat/);
    sh.type('\x07\r');
    await sh.waitFor(/Each line is a copylab command/);
    // A copy a suspended device holds: Ctrl-C stops the wait, the copy completes after the resume.
    sh.type('dmsetup suspend lin\r');
    await sh.waitFor(/dmsetup suspend lin\r*\n/);
    await sh.waitFor(PROMPT);
    sh.type('copy: { dev: /dev/mapper/lin, ranges: [ { src: 0, dst: 8MiB, length: 1MiB } ] }\r');
    await sh.waitFor(/length: 1MiB \} \] \}\r*\n/);
    sh.type('\x03');
    await sh.waitFor(/\^C\r*\n\[1\] still running, now in the background \(`wait` waits for it\): copy: \{ dev: \/dev\/mapper\/lin/);
    await sh.waitFor(PROMPT);
    sh.type('dmsetup resume lin\r');
    await sh.waitFor(/│ copy +│ \/dev\/mapper\/lin +│ ok +│ offload/);
    await sh.waitFor(/\[1\] done \(exit 0\): copy:/);
    sh.type('\x04');
    // The interrupted line's code (130, as shells give) is the shell's.
    expect(await sh.exited).toBe(130);
  }, 120_000);
});
