import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../../src/core/thread/entries.js';
import { checkOutput, fsErrorWords, OutputError, OutputStream, writeOutput } from '../../src/core/util/output-file.js';
import { escapedPrefix, shownValue } from '../../src/core/util/escaped-prefix.js';

const dir = mkdtempSync(join(tmpdir(), 'copylab-output-'));

/** The OutputError fn throws (fails the test when it throws nothing or something else). */
function outputError(fn: () => void): OutputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OutputError);
    return err as OutputError;
  }
  throw new Error('no OutputError');
}

describe('checkOutput: refused before the work, nothing created', () => {
  it('a directory, a missing folder, a file used as a folder', () => {
    expect(outputError(() => checkOutput(dir))).toMatchObject({ code: 'EISDIR', started: false, message: `cannot write ${dir}: is a directory` });
    const missing = join(dir, 'none', 'x.svg');
    expect(outputError(() => checkOutput(missing))).toMatchObject({ code: 'ENOENT', started: false, message: `cannot write ${missing}: no such file or directory` });
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    expect(outputError(() => checkOutput(join(file, 'x.svg')))).toMatchObject({ code: 'ENOTDIR', message: `cannot write ${join(file, 'x.svg')}: not a directory` });
    expect(outputError(() => checkOutput(''))).toMatchObject({ code: 'ENOENT' });
  });

  it('accepts a new file in a folder, an existing file (untouched) and a writable device', () => {
    const f = join(dir, 'new.svg');
    checkOutput(f);
    expect(() => readFileSync(f)).toThrow(/ENOENT/);
    const old = join(dir, 'old.svg');
    writeFileSync(old, 'keep');
    checkOutput(old);
    expect(readFileSync(old, 'utf8')).toBe('keep');
    checkOutput('/dev/full');
  });

  // Root may write anything: as root the case runs in a child process that keeps uid 0 but has
  // dropped CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (setpriv, util-linux), so file modes bind it
  // as they bind a user, against the compiled module; otherwise in this process.
  it('a folder without write permission (EACCES)', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const target = join(ro, 'x');
    const want = { code: 'EACCES', message: `cannot write ${target}: permission denied` };
    if (process.getuid?.() !== 0) {
      expect(outputError(() => checkOutput(target))).toMatchObject(want);
      return;
    }
    const mod = pathToFileURL(join(PACKAGE_ROOT, 'dist/src/core/util/output-file.js')).href;
    const script = `import(${JSON.stringify(mod)}).then((m) => { try { m.checkOutput(${JSON.stringify(target)}); console.log('{}'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } })`;
    const r = spawnSync('setpriv', ['--bounding-set=-dac_override,-dac_read_search', process.execPath, '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject(want);
  });
});

describe('writeOutput: after the work, a failure says how much was written', () => {
  it('writes the file', () => {
    const f = join(dir, 'out.txt');
    writeOutput(f, 'hello');
    expect(readFileSync(f, 'utf8')).toBe('hello');
  });

  it('a full device (/dev/full) is ENOSPC with 0 of N bytes written, started', () => {
    expect(outputError(() => writeOutput('/dev/full', new Uint8Array(100)))).toMatchObject({
      code: 'ENOSPC',
      started: true,
      written: 0,
      total: 100,
      message: 'cannot write /dev/full: no space left on device (0 of 100 bytes written)',
    });
  });

  it('a path that became unusable is refused with its code', () => {
    expect(outputError(() => writeOutput(dir, 'x'))).toMatchObject({ code: 'EISDIR', started: true });
  });
});

describe('OutputStream: a trace file', () => {
  it('a header that cannot be written fails the open (before the work)', () => {
    expect(outputError(() => OutputStream.open('/dev/full', new Uint8Array(8)))).toMatchObject({ code: 'ENOSPC', started: false, message: 'cannot write /dev/full: no space left on device' });
    expect(outputError(() => OutputStream.open(join(dir, 'nope', 't.trace')))).toMatchObject({ code: 'ENOENT', started: false });
    expect(outputError(() => OutputStream.open(dir))).toMatchObject({ code: 'EISDIR', started: false });
  });

  it('a write that fails later is kept, not thrown: what follows is dropped and counted', () => {
    const s = OutputStream.open('/dev/full');
    s.write(new Uint8Array(10));
    s.write(new Uint8Array(5));
    s.close();
    expect(s.error).toMatchObject({ code: 'ENOSPC', started: true, written: 0, message: 'cannot write /dev/full: no space left on device (0 bytes written)' });
    expect(s.dropped).toBe(15);
  });

  it('writes the header and then every write', () => {
    const f = join(dir, 's.bin');
    const s = OutputStream.open(f, Uint8Array.of(1, 2));
    s.write(Uint8Array.of(3));
    s.close();
    s.write(Uint8Array.of(4));
    expect([...readFileSync(f)]).toEqual([1, 2, 3]);
    expect(s.written).toBe(3);
    expect(s.error).toBeUndefined();
  });
});

describe('messages', () => {
  it('fsErrorWords names errors in words, others by their code', () => {
    expect(fsErrorWords(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe('no space left on device');
    expect(fsErrorWords(Object.assign(new Error('x'), { code: 'EWEIRD' }))).toBe('EWEIRD');
    expect(fsErrorWords(new Error('plain'))).toBe('plain');
  });

  it('escapedPrefix quotes at most 32 bytes, escaping controls (C0, DEL, C1) and quotes', () => {
    expect(escapedPrefix('short')).toBe('"short"');
    const long = 'A'.repeat(31) + 'BCDEFG';
    expect(escapedPrefix(long)).toBe(`"${'A'.repeat(31)}B"…`);
    expect(escapedPrefix(Buffer.from('\x1b[31m"x"\x7f\u009b\n'))).toBe('"\\u001b[31m\\"x\\"\\u007f\\u009b\\n"');
    expect(escapedPrefix(Buffer.alloc(1000, 0x41)).length).toBe(32 + 2 + 1);
    // A multi-byte character cut at the limit becomes U+FFFD, never a raw fragment.
    expect(escapedPrefix(Buffer.from('é'.repeat(20)))).toBe(`"${'é'.repeat(16)}"…`);
    expect(escapedPrefix(Buffer.from('x'.repeat(31) + 'é'))).toBe(`"${'x'.repeat(31)}\ufffd"…`);
  });

  it('shownValue: strings as escapedPrefix, other values as JSON cut to 32 characters', () => {
    expect(shownValue('a\tb')).toBe('"a\\tb"');
    expect(shownValue(12)).toBe('12');
    expect(shownValue([1, 2])).toBe('[1,2]');
    expect(shownValue(Array(100).fill(1))).toBe(`[${'1,'.repeat(15)}1…`);
    expect(shownValue(undefined)).toBe('undefined');
  });
});
