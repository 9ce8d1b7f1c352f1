/**
 * Scenario files: YAML with `lab`, `devices` and `steps` (docs/scenario.md). Everything is
 * checked before anything runs: an unknown key, an unknown device, a bad size or a YAML error is
 * a ScenarioError naming the step and key. Device and step kinds come from registry.ts.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { Field, ScenarioError, isObj } from './fields.js';
import { COPY_STRATEGIES, type CopyStrategy, type LabOptions } from '../lab.js';
import { CLOCK_MODES } from '../time/clock.js';
import { DEVICE_KINDS, STEP_KINDS } from './registry.js';
import type { ParseContext, ParsedDevice, ParsedStep } from './types.js';
import { parseStack, stackNames, type StackDef } from '../dm/scenario.js';
import { parseIscsi, type IscsiSpec } from '../iscsi/scenario.js';

/** Limits on a scenario (a limit on everything). */
export const SCENARIO_LIMITS = {
  devices: 64,
  steps: 10000,
  textBytes: 4 * 1024 * 1024,
  /** The yaml package's maxAliasCount: how far aliases may expand the document. */
  yamlAliases: 100,
};

export interface Scenario {
  readonly lab: LabOptions;
  readonly devices: readonly ParsedDevice[];
  /** dm devices, created after `devices` (src/dm/scenario.ts). */
  readonly stack: readonly StackDef[];
  readonly steps: readonly ParsedStep[];
  /** Targets `copylab serve iscsi` exports (src/iscsi/scenario.ts). */
  readonly iscsi?: IscsiSpec;
}

export function parseScenarioText(text: string, source = 'scenario'): Scenario {
  if (text.length > SCENARIO_LIMITS.textBytes) throw new ScenarioError(`${source}: larger than ${SCENARIO_LIMITS.textBytes} bytes`);
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: SCENARIO_LIMITS.yamlAliases, uniqueKeys: true });
  } catch (err) {
    // The yaml package reports syntax errors as YAMLParseError and an alias expansion past
    // maxAliasCount (a "billion laughs" document) or an alias without its anchor as a
    // ReferenceError: all are the file's fault.
    if (err instanceof YAMLParseError) throw new ScenarioError(`${source}: YAML error: ${err.message.split('\n')[0]}`);
    if (err instanceof ReferenceError && /unresolved alias/i.test(err.message)) throw new ScenarioError(`${source}: YAML error: ${err.message.split('\n')[0]}`);
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      throw new ScenarioError(`${source}: YAML error: aliases expand past ${SCENARIO_LIMITS.yamlAliases} nodes (an alias bomb?)`);
    }
    throw err;
  }
  return parseScenario(doc, source);
}

export function parseScenario(doc: unknown, source = 'scenario'): Scenario {
  const root = new Field(source, doc);
  if (!isObj(doc)) root.fail('expected a mapping with devices and steps');
  root.obj(['lab', 'devices', 'stack', 'steps', 'description', 'iscsi']);
  const lab = parseLab(root.key('lab'));
  const names = new Set<string>();
  const kindOfName = new Map<string, string>();
  const devices = root.key('devices').required().list(SCENARIO_LIMITS.devices).map((f) => {
    const kinds = DEVICE_KINDS.map((d) => d.kind);
    const kind = f.key('kind').required().oneOf(kinds);
    const parsed = DEVICE_KINDS.find((d) => d.kind === kind)!.parse(f);
    for (const n of parsed.provides) {
      if (names.has(n)) f.fail(`duplicate device ${n}`);
      names.add(n);
      kindOfName.set(n, kind);
    }
    return parsed;
  });
  const stack = parseStack(root.key('stack'));
  for (const n of stackNames(stack)) {
    names.add(n);
    kindOfName.set(n, 'dm');
  }
  const ctx: ParseContext = {
    devices: names,
    devPath(f: Field): string {
      const p = f.required().devPath();
      if (!names.has(p.slice('/dev/'.length))) f.fail(`unknown device ${p}`);
      return p;
    },
    kindOf: (path) => kindOfName.get(path.slice('/dev/'.length)),
  };
  const steps = root.key('steps').present ? root.key('steps').list(SCENARIO_LIMITS.steps).map((f) => parseStep(f, ctx)) : [];
  const iscsi = parseIscsi(root.key('iscsi'), (f) => ctx.devPath(f));
  return { lab, devices, stack, steps, ...(iscsi ? { iscsi } : {}) };
}

function parseLab(f: Field): LabOptions {
  if (!f.present) return {};
  f.obj(['fallback', 'emulation_buffer', 'max_copy_ranges', 'max_copy_bytes', 'copy_strategy', 'clock']);
  const out: { -readonly [K in keyof LabOptions]: LabOptions[K] } = {};
  if (f.key('fallback').present) out.fallback = f.key('fallback').bool();
  if (f.key('emulation_buffer').present) out.emulationBufferBytes = f.key('emulation_buffer').size();
  if (f.key('max_copy_ranges').present) out.maxCopyRanges = f.key('max_copy_ranges').int(1, 65536);
  if (f.key('max_copy_bytes').present) out.maxCopyBytes = f.key('max_copy_bytes').size();
  if (f.key('copy_strategy').present) out.copyStrategy = f.key('copy_strategy').oneOf<CopyStrategy>(COPY_STRATEGIES);
  if (f.key('clock').present) out.clock = { mode: f.key('clock').oneOf(CLOCK_MODES) };
  return out;
}

function parseStep(f: Field, ctx: ParseContext): ParsedStep {
  const kinds = STEP_KINDS.map((s) => s.kind);
  if (!isObj(f.value)) f.fail(`expected a mapping with one of: ${kinds.join(', ')}`);
  const keys = Object.keys(f.value);
  if (keys.length !== 1) f.fail(`expected exactly one step kind (${kinds.join(', ')}), got ${keys.join(', ') || 'none'}`);
  const kind = keys[0]!;
  const def = STEP_KINDS.find((s) => s.kind === kind);
  if (!def) f.fail(`unknown step '${kind}' (allowed: ${kinds.join(', ')})`);
  return def.parse(f.key(kind), ctx);
}
