import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';

/** Runs `copylab shell` with a real here-document, as a user's script would. */
function heredoc(script: string, args: string[] = []) {
  const cmd = `${JSON.stringify(process.execPath)} bin/copylab.js shell ${args.join(' ')} <<'EOF'\n${script}\nEOF\n`;
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('copylab shell', () => {
  it('keeps one lab across lines: dmsetup suspend holds a copy until resume, then the data verifies', () => {
    const r = heredoc(`fill: { dev: /dev/mapper/lin, offset: 0, length: 1MiB, seed: 9 }
dmsetup suspend lin
sysfs cat /sys/block/dm-0/dm/suspended
copy: { dev: /dev/mapper/lin, ranges: [ { src: 0, dst: 8MiB, length: 1MiB } ], expect: { path: offload, host_bytes: 0 } } &
dmsetup table lin
dmsetup resume lin
wait
sysfs cat /sys/block/dm-0/dm/suspended
verify: { dev: /dev/mapper/lin, offset: 8MiB, length: 1MiB, seed: 9, pattern_offset: 0 }`);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = r.out;
    const at = (s: string) => out.indexOf(s);
    expect(out).toMatch(/copylab> sysfs cat \/sys\/block\/dm-0\/dm\/suspended\n1\n/);
    expect(out).toMatch(/\[1\] running in the background: copy:/);
    // The copy is held while the device is suspended: it completes only after the resume line.
    expect(at('[1] done (exit 0)')).toBeGreaterThan(at('copylab> dmsetup resume lin'));
    expect(at('copylab> dmsetup table lin')).toBeLessThan(at('[1] done'));
    expect(out).toMatch(/│ copy +│ \/dev\/mapper\/lin │ ok +│ offload │/);
    expect(out).toMatch(/│ verify +│ \/dev\/mapper\/lin │ ok /);
    expect(out).toMatch(/suspended\n0\n/);
  });

  it('a token printed by populate-token is used by write-using-token in the same lab (here-document, a shell variable)', () => {
    const r = heredoc(`fill: { dev: /dev/sda, offset: 0, length: 64KiB, seed: 5 }
tok=$(scsi populate-token /dev/sda --range 0:128)
scsi write-using-token /dev/sdb --token $tok --range 0:128
verify: { dev: /dev/sdb, offset: 0, length: 64KiB, seed: 5, pattern_offset: 0 }
scsi write-using-token /dev/sdb --token 00 --range 0:8`);
    expect(r.out).toMatch(/tok = [0-9a-f]{32}… \(1024 characters\)/);
    expect(r.out).toMatch(/copylab> scsi write-using-token \/dev\/sdb --token \$tok --range 0:128\nWRITE USING TOKEN: GOOD/);
    expect(r.out).toMatch(/│ verify +│ \/dev\/sdb +│ ok /);
    // The last line is refused (a 1-byte token): the shell goes on and exits with that line's code.
    expect(r.err).toMatch(/512 bytes of hex/);
    expect(r.code).toBe(2);
  });

  it('takes a token pasted from its own output (interactive use over a pipe)', async () => {
    const p = spawn(process.execPath, ['bin/copylab.js', 'shell'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8');
    const waitFor = (re: RegExp) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timeout waiting for ${re}: ${out}`)), 30_000);
        const check = () => {
          const m = out.match(re);
          if (m) {
            clearTimeout(t);
            p.stdout.off('data', check);
            resolve(m);
          }
        };
        p.stdout.on('data', (d: string) => {
          out += d;
          check();
        });
      });
    p.stdin.write('fill: { dev: /dev/sda, offset: 1MiB, length: 64KiB, seed: 11 }\nscsi populate-token /dev/sda --range 2048:128\n');
    const [token] = await waitFor(/^[0-9a-f]{1024}$/m);
    p.stdin.write(`scsi write-using-token /dev/sdb --token ${token} --range 4096:128\nverify: { dev: /dev/sdb, offset: 2MiB, length: 64KiB, seed: 11, pattern_offset: 1MiB }\n`);
    p.stdin.end();
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    expect(out).toMatch(/WRITE USING TOKEN: GOOD/);
    expect(out).toMatch(/│ verify +│ \/dev\/sdb +│ ok /);
    expect(code).toBe(0);
  });

  it('refuses what does not fit in a shell and goes on: serve, --scenario on a line, an unset variable, an unknown command', () => {
    const r = heredoc(`serve iscsi
sysfs cat /sys/block/nullb0/queue/copy_max_bytes --scenario examples/quickstart.yaml
scsi inq $nothing
frobnicate
lab`, ['--scenario', 'examples/scsi-xcopy.yaml']);
    expect(r.err).toMatch(/serve: not available inside the shell/);
    expect(r.err).toMatch(/this shell's lab is examples\/scsi-xcopy.yaml/);
    expect(r.err).toMatch(/\$nothing is not set/);
    expect(r.err).toMatch(/unknown command 'frobnicate'/);
    expect(r.out).toMatch(/this shell's lab/);
    expect(r.code).toBe(2);
  });

  it('bounds the wait for background lines: a copy a suspended device holds is cancelled after --wait-timeout, at `wait` and at the end of input', () => {
    const copy = 'copy: { dev: /dev/mapper/lin, ranges: [ { src: 0, dst: 8MiB, length: 1MiB } ] } &';
    const r = heredoc(`dmsetup suspend lin\n${copy}\nwait\nsysfs cat /sys/block/dm-0/dm/suspended\n${copy}`, ['--wait-timeout', '1']);
    expect(r.err).toMatch(/^copylab: wait: \[1\] still running after 1 s \(--wait-timeout\), cancelled: copy: \{ dev: \/dev\/mapper\/lin/m);
    expect(r.err).toMatch(/^copylab: end of input: \[2\] still running after 1 s \(--wait-timeout\), cancelled: copy:/m);
    expect(r.err.trim().split('\n')).toHaveLength(2);
    // The shell went on after the cancelled wait; the cancelled lines report nothing more.
    expect(r.out).toMatch(/copylab> sysfs cat \/sys\/block\/dm-0\/dm\/suspended\n1\n/);
    expect(r.out).not.toMatch(/\] done/);
    expect(r.code).toBe(1);
  });

  it('--wait-timeout takes 1..86400 seconds', () => {
    for (const bad of ['0', '86401', 'soon']) {
      const r = heredoc('lab', ['--wait-timeout', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.err).toMatch(/--wait-timeout: /);
    }
  });
});
