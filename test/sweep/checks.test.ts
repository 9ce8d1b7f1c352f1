import { describe, expect, it } from 'vitest';
import { GC_DEFAULTS, type GcOptions } from '../../src/app/gc/options.js';
import { checkPoint, failedPointOf, failureReason, firstLine, parseFailureReason, pointId, pointPayload, PointError, POINT_MAX_PAYLOAD_BYTES, POINT_MAX_SERIES_POINTS } from '../../src/app/sweep/point.js';
import { parseQueueUrl, QueueUrlError, QUEUE_URL_MAX_CHARS } from '../../src/app/sweep/queue-url.js';
import { parseDuration, parseRetention, sweepId, SweepRecordError } from '../../src/app/sweep/record.js';

const MiB = 1024 * 1024;
const base: GcOptions = { ...GC_DEFAULTS, size: 64 * MiB, spareFactor: 0.2, overwrites: 1 };
const payload = (o: Record<string, unknown> = {}) => ({ kind: 'gc', v: 1, options: { ...pointPayload(base).options, ...o } });

describe('queued GC points', () => {
  it('a payload is the options alone; its id hashes them (same options, same id; any change, another id)', () => {
    const p = pointPayload({ ...base, inject: { kind: 'drop', at: 3 } });
    expect(p.options).not.toHaveProperty('inject');
    expect(checkPoint(JSON.parse(JSON.stringify(p)), 1024 * MiB)).toEqual(pointPayload(base).options);
    expect(pointId(pointPayload(base))).toBe(pointId(pointPayload({ ...base })));
    expect(pointId(pointPayload(base))).toMatch(/^gc-[0-9a-f]{32}$/);
    expect(pointId(pointPayload({ ...base, seed: 2 }))).not.toBe(pointId(pointPayload(base)));
    expect(sweepId(['a', 'b'])).toMatch(/^sw-[0-9a-f]{16}$/);
    expect(sweepId(['a', 'b'])).not.toBe(sweepId(['b', 'a']));
  });

  it.each([
    ['a string', 'hello', /the payload is not an object/],
    ['null', null, /the payload is not an object/],
    ['nothing', undefined, /no payload/],
    ['a cycle', (() => { const o: Record<string, unknown> = {}; o.o = o; return o; })(), /not JSON data/],
    ['an extra field', { ...payload(), x: 1 }, /unknown field "x"/],
    ['another kind', { ...payload(), kind: 'bench' }, /kind must be "gc"/],
    ['another version', { ...payload(), v: 2 }, /format version 2; this worker reads version 1/],
    ['options not an object', { kind: 'gc', v: 1, options: [1] }, /options is not an object/],
    ['an unknown option', payload({ inject: { kind: 'drop', at: 1 } }), /unknown option "inject"/],
    ['a string size', payload({ size: '64MiB' }), /size must be an integer, not "64MiB"/],
    ['a fractional seed', payload({ seed: 1.5 }), /seed must be an integer/],
    ['a missing policy', payload({ policy: undefined }), /policy must be a string, not missing/],
    ['a non-finite spare factor', { kind: 'gc', v: 1, options: { ...payload().options, spareFactor: '0.2' } }, /spareFactor must be a finite number/],
    ['a fractional zone size', payload({ zoneBytes: 1.5 }), /zoneBytes must be an integer/],
    ['a long workload', payload({ workload: 'z'.repeat(300) }), /workload is longer than 256 characters/],
    ['a trace workload', payload({ workload: 'trace:/etc/passwd' }), /trace: workloads name a file/],
    ['a device over the worker limit', payload({ size: 2048 * MiB }), /over this worker's --max-size/],
    ['too many series points', payload({ seriesPoints: POINT_MAX_SERIES_POINTS + 1 }), /seriesPoints: at most 2000/],
    ['an unknown policy (checkGcOptions)', payload({ policy: 'lru' }), /--policy: expected/],
    ['a size off the segment grid (checkGcOptions)', payload({ size: 64 * MiB + 4096 }), /--size: must be a multiple of 2 MiB/],
    ['a spare factor out of range (layoutOf)', payload({ spareFactor: 0.95 }), /spare/i],
    ['a large payload', { ...payload(), options: { ...payload().options, timing: 'x'.repeat(250), workload: 'y'.repeat(250) }, pad: 'p'.repeat(POINT_MAX_PAYLOAD_BYTES) }, /the payload is \d+ bytes; at most 4096/],
  ])('%s is refused with one line', (_what, data, reason) => {
    let err: unknown;
    try {
      checkPoint(data, 1024 * MiB);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PointError);
    expect((err as Error).message).toMatch(/^malformed task: /);
    expect((err as Error).message).toMatch(reason);
    expect((err as Error).message).not.toMatch(/\n/);
  });

  it('a failed job keeps its kind with its one-line message; a failed point is rebuilt from its payload', () => {
    expect(failureReason('usage', '--spare-factor: 0.1 leaves no room\nmore')).toBe('refused: --spare-factor: 0.1 leaves no room');
    expect(failureReason('failed', new Error('verify: lba 3').message)).toBe('failed: verify: lba 3');
    expect(parseFailureReason('refused: --spare-factor: 0.1 leaves no room')).toEqual({ kind: 'usage', message: '--spare-factor: 0.1 leaves no room' });
    expect(parseFailureReason('failed: refused: x')).toEqual({ kind: 'failed', message: 'refused: x' });
    // BullMQ's own reasons (and a foreign worker's) have no kind: a failed run.
    expect(parseFailureReason('job stalled more than allowable limit')).toEqual({ kind: 'failed', message: 'job stalled more than allowable limit' });
    const long = 'x'.repeat(500);
    expect(parseFailureReason(failureReason('usage', long)).message).toBe(firstLine(long));
    expect(failedPointOf(pointPayload(base), 'usage', 'm')).toEqual({ workload: 'uniform', policy: 'greedy', path: base.path, spare_factor: 0.2, error: 'm', error_kind: 'usage' });
    for (const junk of [null, 'x', { options: 1 }, { options: { ...pointPayload(base).options, spareFactor: '0.2' } }, { options: { ...pointPayload(base).options, workload: 'w'.repeat(300) } }]) {
      expect(failedPointOf(junk, 'failed', 'm')).toBeUndefined();
    }
  });

  it('firstLine keeps one bounded line of any error', () => {
    expect(firstLine(new Error('one\ntwo'))).toBe('one');
    expect(firstLine('x'.repeat(500))).toHaveLength(301);
  });
});

describe('queue URLs', () => {
  it('redis:// and rediss:// with a user, a password, a database; messages never show the password', () => {
    const t = parseQueueUrl('rediss://sweeper:p%40ss@redis.example:6380/3');
    expect(t.connection).toEqual({ host: 'redis.example', port: 6380, db: 3, username: 'sweeper', password: 'p@ss', tls: { servername: 'redis.example' } });
    expect(t.display).toBe('rediss://sweeper:***@redis.example:6380/3');
    expect(parseQueueUrl('redis://127.0.0.1').connection).toEqual({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(parseQueueUrl('redis://:secret@[::1]:7000').display).toBe('redis://:***@[::1]:7000');
    expect(parseQueueUrl('redis://:secret@[::1]:7000').connection.host).toBe('::1');
  });

  it.each([
    ['http://u:secret@host:1', /unsupported scheme "http:"/],
    ['redis://u:secret@host:1/x', /database number 0\.\.255, not "x"/],
    ['redis://host:1/256', /database number/],
    ['redis://host:1/0?tls=1', /query or fragment/],
    ['redis://host:1/#x', /query or fragment/],
    ['redis://host:0', /bad port/],
    ['redis://u:%E0%A4%A@host:1', /percent-encoding/],
    ['redis://ho st:1', /space or control/],
    ['redis://u:secret@host:99999', /not a URL: "redis:\/\/\*\*\*@host:99999"/],
    ['nourl', /not a URL: "nourl"/],
    [`redis://${'h'.repeat(QUEUE_URL_MAX_CHARS)}:1`, /longer than 1024/],
    ['redis://:1', /not a URL|no host/],
  ])('%s is refused in one line without its password', (url, reason) => {
    let err: unknown;
    try {
      parseQueueUrl(url);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QueueUrlError);
    expect((err as Error).message).toMatch(reason);
    expect((err as Error).message).toMatch(/^--queue: .*expected redis:\/\//);
    expect((err as Error).message).not.toMatch(/secret|\n/);
  });
});

describe('retention and times', () => {
  it('takes s, m, h, d within the limits', () => {
    expect(parseRetention('7d')).toBe(7 * 86400);
    expect(parseRetention('90')).toBe(90);
    expect(parseDuration('15m', '--timeout', 1, 100_000)).toBe(900);
    for (const bad of ['59s', '91d', '1w', '', '-5m', '1.5h']) expect(() => parseRetention(bad), bad).toThrow(SweepRecordError);
    expect(() => parseRetention('1w')).toThrow(/--retention: expected a time such as 30s, 12h or 7d, from 60 s to 90 days, got "1w"/);
  });
});
