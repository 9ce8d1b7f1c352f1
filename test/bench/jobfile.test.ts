import { describe, expect, it } from 'vitest';
import { parseJobText, JobFileError } from '../../src/app/bench/jobfile.js';
import { parseFioInt, parseFioTime } from '../../src/app/bench/units.js';

const job = (body: string) => parseJobText(`[j]\nfilename=/dev/nullb0\n${body}\n`, 'x.fio');

function error(text: string): JobFileError {
  try {
    parseJobText(text, 'bad.fio');
  } catch (err) {
    if (err instanceof JobFileError) return err;
    throw err;
  }
  throw new Error('parsed without error');
}

describe('fio values', () => {
  it('reads sizes as fio does with kb_base=1024 (checked against fio 3.33: 1m and 1mi are 2^20, 1mib is 10^6)', () => {
    expect(parseFioInt('4k')).toEqual({ ok: true, value: 4096 });
    expect(parseFioInt('4KB')).toEqual({ ok: true, value: 4096 });
    expect(parseFioInt('1m')).toEqual({ ok: true, value: 1048576 });
    expect(parseFioInt('1mi')).toEqual({ ok: true, value: 1048576 });
    expect(parseFioInt('1mib')).toEqual({ ok: true, value: 1000000 });
    expect(parseFioInt('4kib')).toEqual({ ok: true, value: 4000 });
    expect(parseFioInt('0x1000')).toEqual({ ok: true, value: 4096 });
    expect(parseFioInt('1k', 1000)).toEqual({ ok: true, value: 1000 });
    expect(parseFioInt('1kib', 1000)).toEqual({ ok: true, value: 1024 });
    expect(parseFioInt('12q').ok).toBe(false);
  });

  it('reads times in seconds by default, with suffixes', () => {
    expect(parseFioTime('30')).toEqual({ ok: true, value: 30e9 });
    expect(parseFioTime('500ms')).toEqual({ ok: true, value: 500e6 });
    expect(parseFioTime('2m')).toEqual({ ok: true, value: 120e9 });
    expect(parseFioTime('1w').ok).toBe(false);
  });

  it('applies bs=a,b to writes and trims, and bs=a,b, leaves trims at the default (HOWTO "blocksize")', () => {
    expect(job('bs=8k,32k')[0]!.bs).toEqual({ read: 8192, write: 32768, trim: 32768 });
    expect(job('bs=8k,32k,')[0]!.bs).toEqual({ read: 8192, write: 32768, trim: 4096 });
    expect(job('bs=,8k')[0]!.bs).toEqual({ read: 4096, write: 8192, trim: 8192 });
  });

  it('fills blank bssplit percentages evenly and refuses splits over 100', () => {
    expect(job('bssplit=4k/50:1k/:32k/')[0]!.bssplit!.read).toEqual([{ bs: 4096, pct: 50 }, { bs: 1024, pct: 25 }, { bs: 32768, pct: 25 }]);
    expect(() => job('bssplit=4k/60:8k/60')).toThrow(/add up to 120/);
  });
});

describe('job files', () => {
  it('gives jobs the [global] options before them, their own options on top, and fio\'s defaults', () => {
    const jobs = parseJobText('[global]\nfilename=/dev/nullb0\nbs=8k\n; comment\n# comment\n[a]\nrw=randread\n[b]\nbs=16k\ntime_based\nruntime=2\n', 'x.fio');
    expect(jobs.map((j) => [j.name, j.rw, j.bs.read, j.iodepth, j.time_based])).toEqual([['a', 'randread', 8192, 1, false], ['b', 'read', 16384, 1, true]]);
    expect(jobs[1]!.runtime_ns).toBe(2e9);
    expect(jobs[1]!.options).toEqual({ bs: '16k', time_based: '', runtime: '2' });
  });

  it('starts a new group at stonewall; jobs without it share one', () => {
    const jobs = parseJobText('[global]\nfilename=/dev/nullb0\n[a]\n[b]\n[c]\nstonewall\n', 'x.fio');
    expect(jobs.map((j) => j.group)).toEqual([0, 0, 1]);
  });

  it('parses random_distribution forms', () => {
    expect(job('rw=randread\nrandom_distribution=zipf:1.2')[0]!.random_distribution).toEqual({ kind: 'zipf', theta: 1.2 });
    expect(job('random_distribution=pareto:0.3')[0]!.random_distribution).toEqual({ kind: 'pareto', h: 0.3 });
    expect(job('random_distribution=zoned:60/10:30/20:8/30:2/40')[0]!.random_distribution.kind).toBe('zoned');
    expect(() => job('random_distribution=zoned:60/10:30/20')).toThrow(/add up to 90/);
  });

  it('an unknown option names the file, section and line, and what copylab supports', () => {
    const e = error('[global]\nfilename=/dev/nullb0\n\n[myjob]\nrw=read\nblocksizze=4k\n');
    expect(e.message).toMatch(/^bad\.fio:6: \[myjob\] unknown option 'blocksizze' \(not an fio option; copylab supports: name, description, filename, rw, .*, bssplit, .*\)$/);
  });

  it('an fio option copylab does not run is "not supported", with the supported list', () => {
    for (const opt of ['bsrange=4k-8k', 'verify=crc32c', 'thinktime=10', 'hipri']) {
      const e = error(`[j]\nfilename=/dev/nullb0\n${opt}\n`);
      expect(e.message).toMatch(new RegExp(`^bad\\.fio:3: \\[j\\] ${opt.split('=')[0]}: not supported \\(an fio option copylab does not run; copylab supports: .*iodepth.*\\)$`));
    }
  });

  it('a bad size names the option, section and line', () => {
    expect(error('[j]\nfilename=/dev/nullb0\nsize=12zb\n').message).toMatch(/^bad\.fio:3: \[j\] size: '12zb' is not an fio integer/);
  });

  it('a bad value of a known option is an error, not ignored', () => {
    expect(error('[j]\nfilename=/dev/nullb0\nrw=randomread\n').message).toMatch(/^bad\.fio:3: \[j\] rw: 'randomread' is not one of read, write/);
    expect(error('[j]\nfilename=/dev/nullb0\niodepth=0\n').message).toMatch(/^bad\.fio:3: \[j\] iodepth: 0 is out of range/);
    expect(error('[global]\nioengine=libaio\n[j]\nfilename=/dev/nullb0\n').message).toMatch(/^bad\.fio:2: \[global\] ioengine: 'libaio'/);
  });

  it('a job without filename names its section', () => {
    expect(error('[global]\nbs=4k\n[nofile]\nrw=read\n').message).toBe('bad.fio:3: [nofile] missing filename= (a lab device such as /dev/nullb0)');
  });

  it('refuses options before any section and malformed headers', () => {
    expect(error('bs=4k\n[j]\n').message).toMatch(/^bad\.fio:1: option "bs=4k" before any \[section\]/);
    expect(error('[j\nfilename=/dev/nullb0\n').message).toMatch(/^bad\.fio:1: bad section header/);
  });
});
