/**
 * Scenario files: YAML with `lab`, `devices` and `steps` (docs/scenario.md). Everything is
 * checked before anything runs: an unknown key, an unknown device, a bad size or a YAML error is
 * a ScenarioError naming the step and key.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { Field, ScenarioError, isObj } from './fields.js';
import { COPY_STRATEGIES, type CopyStrategy, type LabOptions } from '../lab.js';
import type { NullBlkOptions } from '../../devices/nullblk/nullblk.js';
import { ReqOp } from '../block/ops.js';

/** Limits on a scenario (a limit on everything). */
export const SCENARIO_LIMITS = {
  devices: 64,
  steps: 10000,
  ranges: 65536,
  /** Bytes one fill/verify/read step may touch. */
  ioBytes: 64 * 1024 ** 3,
  textBytes: 4 * 1024 * 1024,
};

export type CopyExpect = {
  path?: 'offload' | 'emulated' | 'mixed' | 'none';
  pieces?: number;
  bytes?: number;
  host_bytes?: number;
  errno?: number;
};

export type Step =
  | { kind: 'fill'; dev: string; offset: number; length: number; seed: number; pattern_offset: number }
  | { kind: 'verify'; dev: string; offset: number; length: number; seed: number | null; pattern_offset: number; expect: { errno?: number } }
  | { kind: 'read'; dev: string; offset: number; length: number; expect: { errno?: number } }
  | { kind: 'copy'; dev: string; ranges: { src_dev: string; src: number; dst: number; length: number }[]; fallback?: boolean; expect: CopyExpect }
  | { kind: 'sysfs'; read?: string; write?: string; value?: string; expect: { errno?: number; value?: string } }
  | { kind: 'discard' | 'write_zeroes'; dev: string; offset: number; length: number; expect: { errno?: number } }
  | { kind: 'flush'; dev: string; expect: { errno?: number } }
  | { kind: 'fault'; dev: string; op: ReqOp; errno: number; count: number; skip: number };

export type StepKind = Step['kind'];

export interface DeviceSpec extends NullBlkOptions {
  readonly kind: 'nullblk';
  readonly copy_offload_min_bytes?: number;
}

export interface Scenario {
  readonly lab: LabOptions;
  readonly devices: readonly DeviceSpec[];
  readonly steps: readonly Step[];
}

const STEP_KINDS: readonly StepKind[] = ['fill', 'verify', 'read', 'copy', 'sysfs', 'discard', 'write_zeroes', 'flush', 'fault'];

const FAULT_OPS: Readonly<Record<string, ReqOp>> = {
  read: ReqOp.READ,
  write: ReqOp.WRITE,
  flush: ReqOp.FLUSH,
  discard: ReqOp.DISCARD,
  write_zeroes: ReqOp.WRITE_ZEROES,
  copy: ReqOp.COPY,
};

export function parseScenarioText(text: string, source = 'scenario'): Scenario {
  if (text.length > SCENARIO_LIMITS.textBytes) throw new ScenarioError(`${source}: larger than ${SCENARIO_LIMITS.textBytes} bytes`);
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    if (err instanceof YAMLParseError) throw new ScenarioError(`${source}: YAML error: ${err.message.split('\n')[0]}`);
    throw err;
  }
  return parseScenario(doc, source);
}

export function parseScenario(doc: unknown, source = 'scenario'): Scenario {
  const root = new Field(source, doc);
  if (!isObj(doc)) root.fail('expected a mapping with devices and steps');
  root.obj(['lab', 'devices', 'steps', 'description']);
  const lab = parseLab(root.key('lab'));
  const devices = root.key('devices').required().list(SCENARIO_LIMITS.devices).map(parseDevice);
  const names = new Set<string>();
  for (const [i, d] of devices.entries()) {
    if (names.has(d.name)) throw new ScenarioError(`${source}.devices[${i}].name: duplicate device ${d.name}`);
    names.add(d.name);
  }
  const steps = root.key('steps').present ? root.key('steps').list(SCENARIO_LIMITS.steps).map((f) => parseStep(f, names)) : [];
  return { lab, devices, steps };
}

function parseLab(f: Field): LabOptions {
  if (!f.present) return {};
  f.obj(['fallback', 'emulation_buffer', 'max_copy_ranges', 'max_copy_bytes', 'copy_strategy']);
  const out: { -readonly [K in keyof LabOptions]: LabOptions[K] } = {};
  if (f.key('fallback').present) out.fallback = f.key('fallback').bool();
  if (f.key('emulation_buffer').present) out.emulationBufferBytes = f.key('emulation_buffer').size();
  if (f.key('max_copy_ranges').present) out.maxCopyRanges = f.key('max_copy_ranges').int(1, 65536);
  if (f.key('max_copy_bytes').present) out.maxCopyBytes = f.key('max_copy_bytes').size();
  if (f.key('copy_strategy').present) out.copyStrategy = f.key('copy_strategy').oneOf<CopyStrategy>(COPY_STRATEGIES);
  return out;
}

function parseDevice(f: Field): DeviceSpec {
  f.obj(['kind', 'name', 'size', 'lbs', 'backing', 'copy_max_hw_bytes', 'copy_max_segments', 'domain', 'max_hw_sectors_kb', 'discard', 'memory_limit', 'copy_offload_min_bytes']);
  f.key('kind').required().oneOf(['nullblk'] as const);
  const name = f.key('name').required().str();
  const opt = <T>(k: string, get: (x: Field) => T): Record<string, T> => (f.key(k).present ? { [k]: get(f.key(k)) } : {});
  return {
    kind: 'nullblk',
    name,
    size: f.key('size').required().size(),
    ...opt('lbs', (x) => x.oneOf([512, 4096] as const)),
    ...opt('backing', (x) => x.oneOf(['memory', 'sparse'] as const)),
    ...opt('copy_max_hw_bytes', (x) => x.size()),
    ...opt('copy_max_segments', (x) => x.int(1, 65536)),
    ...opt('domain', (x) => x.str()),
    ...opt('max_hw_sectors_kb', (x) => x.int(4, 65536)),
    ...opt('discard', (x) => x.bool()),
    ...opt('memory_limit', (x) => x.size()),
    ...opt('copy_offload_min_bytes', (x) => x.size()),
  } as DeviceSpec;
}

function parseStep(f: Field, devices: ReadonlySet<string>): Step {
  if (!isObj(f.value)) f.fail(`expected a mapping with one of: ${STEP_KINDS.join(', ')}`);
  const keys = Object.keys(f.value);
  if (keys.length !== 1) f.fail(`expected exactly one step kind (${STEP_KINDS.join(', ')}), got ${keys.join(', ') || 'none'}`);
  const kind = keys[0]!;
  if (!STEP_KINDS.includes(kind as StepKind)) f.fail(`unknown step '${kind}' (allowed: ${STEP_KINDS.join(', ')})`);
  const s = f.key(kind);
  const dev = (k = 'dev'): string => {
    const p = s.key(k).required().devPath();
    if (!devices.has(p.slice(5))) s.key(k).fail(`unknown device ${p}`);
    return p;
  };
  const io = (k: string): number => {
    const n = s.key(k).required().size();
    if (n > SCENARIO_LIMITS.ioBytes) s.key(k).fail(`at most ${SCENARIO_LIMITS.ioBytes} bytes per step`);
    return n;
  };
  const errnoExpect = (allowed: string[] = ['errno']): { errno?: number } => {
    const e = s.key('expect');
    if (!e.present) return {};
    e.obj(allowed);
    return e.key('errno').present ? { errno: e.key('errno').errno() } : {};
  };
  switch (kind as StepKind) {
    case 'fill': {
      s.obj(['dev', 'offset', 'length', 'seed', 'pattern_offset']);
      const offset = s.key('offset').present ? s.key('offset').size() : 0;
      return {
        kind: 'fill', dev: dev(), offset, length: io('length'),
        seed: s.key('seed').required().int(0, 2 ** 32 - 1),
        pattern_offset: s.key('pattern_offset').present ? s.key('pattern_offset').size() : offset,
      };
    }
    case 'verify': {
      s.obj(['dev', 'offset', 'length', 'seed', 'pattern_offset', 'zero', 'expect']);
      const offset = s.key('offset').present ? s.key('offset').size() : 0;
      const zero = s.key('zero').present && s.key('zero').bool();
      if (zero === s.key('seed').present) s.fail('give either seed (a pattern) or zero: true');
      return {
        kind: 'verify', dev: dev(), offset, length: io('length'),
        seed: zero ? null : s.key('seed').int(0, 2 ** 32 - 1),
        pattern_offset: s.key('pattern_offset').present ? s.key('pattern_offset').size() : offset,
        expect: errnoExpect(),
      };
    }
    case 'read': {
      s.obj(['dev', 'offset', 'length', 'expect']);
      return { kind: 'read', dev: dev(), offset: s.key('offset').present ? s.key('offset').size() : 0, length: io('length'), expect: errnoExpect() };
    }
    case 'copy': {
      s.obj(['dev', 'ranges', 'fallback', 'expect']);
      const d = dev();
      const ranges = s.key('ranges').required().list(SCENARIO_LIMITS.ranges).map((r) => {
        r.obj(['src_dev', 'src', 'dst', 'length']);
        let srcDev = d;
        if (r.key('src_dev').present) {
          srcDev = r.key('src_dev').devPath();
          if (!devices.has(srcDev.slice(5))) r.key('src_dev').fail(`unknown device ${srcDev}`);
        }
        return { src_dev: srcDev, src: r.key('src').required().size(), dst: r.key('dst').required().size(), length: r.key('length').required().size() };
      });
      const e = s.key('expect');
      const expect: CopyExpect = {};
      if (e.present) {
        e.obj(['path', 'pieces', 'bytes', 'host_bytes', 'errno']);
        if (e.key('path').present) expect.path = e.key('path').oneOf(['offload', 'emulated', 'mixed', 'none'] as const);
        if (e.key('pieces').present) expect.pieces = e.key('pieces').int(0, 2 ** 31);
        if (e.key('bytes').present) expect.bytes = e.key('bytes').size();
        if (e.key('host_bytes').present) expect.host_bytes = e.key('host_bytes').size();
        if (e.key('errno').present) expect.errno = e.key('errno').errno();
      }
      return { kind: 'copy', dev: d, ranges, ...(s.key('fallback').present ? { fallback: s.key('fallback').bool() } : {}), expect };
    }
    case 'sysfs': {
      s.obj(['read', 'write', 'value', 'expect']);
      const hasRead = s.key('read').present;
      if (hasRead === s.key('write').present) s.fail('give exactly one of read or write');
      const path = (hasRead ? s.key('read') : s.key('write')).str();
      if (!path.startsWith('/sys/')) (hasRead ? s.key('read') : s.key('write')).fail('a sysfs path starts with /sys/');
      const e = s.key('expect');
      let expect: { errno?: number; value?: string } = {};
      if (e.present) {
        if (typeof e.value === 'string' || typeof e.value === 'number') expect = { value: e.text() };
        else {
          e.obj(['errno', 'value']);
          if (e.key('errno').present) expect.errno = e.key('errno').errno();
          if (e.key('value').present) expect.value = e.key('value').text();
        }
      }
      if (hasRead) {
        if (s.key('value').present) s.key('value').fail('value goes with write, not read');
        return { kind: 'sysfs', read: path, expect };
      }
      return { kind: 'sysfs', write: path, value: s.key('value').required().text(), expect };
    }
    case 'discard':
    case 'write_zeroes': {
      s.obj(['dev', 'offset', 'length', 'expect']);
      return { kind: kind as 'discard' | 'write_zeroes', dev: dev(), offset: s.key('offset').present ? s.key('offset').size() : 0, length: s.key('length').required().size(), expect: errnoExpect() };
    }
    case 'flush': {
      s.obj(['dev', 'expect']);
      return { kind: 'flush', dev: dev(), expect: errnoExpect() };
    }
    case 'fault': {
      s.obj(['dev', 'op', 'errno', 'count', 'skip']);
      const op = FAULT_OPS[s.key('op').required().oneOf(Object.keys(FAULT_OPS))]!;
      return {
        kind: 'fault', dev: dev(), op,
        errno: s.key('errno').present ? s.key('errno').errno() : 5,
        count: s.key('count').present ? s.key('count').int(1, 1_000_000) : 1,
        skip: s.key('skip').present ? s.key('skip').int(0, 1_000_000) : 0,
      };
    }
  }
  return f.fail('unreachable');
}
