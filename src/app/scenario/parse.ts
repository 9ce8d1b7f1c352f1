/**
 * Scenario files: YAML with `lab`, `devices` and `steps` (docs/scenario.md). Everything is
 * checked before anything runs: an unknown key, an unknown device, a bad size or a YAML error is
 * a ScenarioError naming the step and key. Device and step kinds come from registry.ts.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { Field, ScenarioError, isObj, quotedKey } from './fields.js';
import { COPY_STRATEGIES, type CopyStrategy, type LabOptions } from '../lab.js';
import { CLOCK_MODES } from '../../core/time/clock.js';
import { DEVICE_KINDS, STEP_KINDS } from './registry.js';
import type { ParseContext, ParsedDevice, ParsedStep } from './types.js';
import { dataFilePolicy, readDataFile, type ScenarioFileOptions } from './data-file.js';
import { parseStack, stackNames, STACK_ENTRY_SPEC, STACK_MAX_ENTRIES, type StackDef } from '../dm/scenario.js';
import { parseIscsi, ISCSI_SPEC, type IscsiSpec } from '../iscsi/scenario.js';
import { k, objectSchema, type ObjSpec } from './keys.js';
import { COPY_DEFAULTS } from '../../core/block/copy/types.js';
import { formatSize } from '../../core/util/size.js';

/** The `lab` section: copy engine settings. */
export const LAB_SPEC: ObjSpec = {
  description: 'copy engine settings',
  keys: {
    fallback: k.bool('when an offloaded piece fails, emulate it (and say so) instead of failing the copy', { default: COPY_DEFAULTS.fallback }),
    emulation_buffer: k.size('cap on the bounce buffer of emulated copies (4 KiB … 256 MiB); the chunk is also capped by both devices\' max_hw_sectors_kb', { default: formatSize(COPY_DEFAULTS.emulationBufferBytes) }),
    max_copy_ranges: k.int(1, 65536, 'ranges one copy may carry; more is EINVAL', { default: COPY_DEFAULTS.maxRanges }),
    max_copy_bytes: k.size('bytes one copy may move; more is EINVAL', { default: formatSize(COPY_DEFAULTS.maxBytes) }),
    copy_strategy: k.oneOf(COPY_STRATEGIES, 'how a copy travels: vectored (one request, many sources), paired (COPY_DST + COPY_SRC bios), token (read-token then write-token)', { default: COPY_DEFAULTS.strategy }),
    clock: k.oneOf(CLOCK_MODES, 'modeled time: virtual (a discrete-event clock, runs as fast as it can) or realtime (modeled delays are waited out)', { default: 'virtual' }),
  },
};


/** Limits on a scenario (a limit on everything). */
export const SCENARIO_LIMITS = {
  devices: 64,
  steps: 10000,
  textBytes: 4 * 1024 * 1024,
  /** The yaml package's maxAliasCount: how far aliases may expand the document. */
  yamlAliases: 100,
};

/** The top level of a scenario file. */
export const ROOT_SPEC: ObjSpec = {
  description: 'a copylab scenario: devices, an optional dm stack, and steps run in order (docs/scenario.md)',
  keys: {
    description: k.str('free text'),
    lab: k.obj(LAB_SPEC),
    devices: {
      schema: { type: 'array', maxItems: SCENARIO_LIMITS.devices, items: { oneOf: DEVICE_KINDS.map((d) => objectSchema(d.spec)) } },
      type: `list of devices (kind: ${DEVICE_KINDS.map((d) => d.kind).join(', ')})`,
      description: 'the block devices',
      required: true,
      example: [{ kind: 'nullblk', name: 'nullb0', size: '64MiB', lbs: 4096, copy_max_hw_bytes: '1MiB', domain: 'd0' }],
    },
    stack: k.list(k.obj(STACK_ENTRY_SPEC), STACK_MAX_ENTRIES, 'device-mapper devices over the devices, created in order (docs/dm.md)'),
    steps: {
      schema: {
        type: 'array',
        maxItems: SCENARIO_LIMITS.steps,
        items: {
          oneOf: STEP_KINDS.map((s) => ({ type: 'object', description: s.spec.description, properties: { [s.kind]: objectSchema(s.spec) }, required: [s.kind], additionalProperties: false })),
        },
      },
      type: `list of steps, each a mapping with one key (${STEP_KINDS.map((s) => s.kind).join(', ')})`,
      description: 'what to do, in order',
      example: [{ fill: { dev: '/dev/nullb0', offset: 0, length: '4MiB', seed: 7 } }],
    },
    iscsi: k.obj(ISCSI_SPEC),
  },
};

export interface Scenario {
  readonly lab: LabOptions;
  readonly devices: readonly ParsedDevice[];
  /** dm devices, created after `devices` (src/app/dm/scenario.ts). */
  readonly stack: readonly StackDef[];
  readonly steps: readonly ParsedStep[];
  /** Targets `copylab serve iscsi` exports (src/app/iscsi/scenario.ts). */
  readonly iscsi?: IscsiSpec;
}

/** `files`: where data_file paths resolve and whether they may leave that folder (data-file.ts). */
export function parseScenarioText(text: string, source = 'scenario', files: ScenarioFileOptions = {}): Scenario {
  return parseScenario(parseYamlText(text, source), source, files);
}

/** YAML text → a document, within the scenario limits; every problem is a ScenarioError. */
function parseYamlText(text: string, source: string): unknown {
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
  return doc;
}

export function parseScenario(doc: unknown, source = 'scenario', files: ScenarioFileOptions = {}): Scenario {
  const root = new Field(source, doc);
  if (!isObj(doc)) root.fail('expected a mapping with devices and steps');
  root.obj(ROOT_SPEC);
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
  const ctx = contextFor(kindOfName, files);
  const steps = root.key('steps').present ? root.key('steps').list(SCENARIO_LIMITS.steps).map((f) => parseStep(f, ctx)) : [];
  const iscsi = parseIscsi(root.key('iscsi'), (f) => ctx.devPath(f));
  return { lab, devices, stack, steps, ...(iscsi ? { iscsi } : {}) };
}

/**
 * What steps resolve device paths against: the names of a scenario's (or a live lab's) devices
 * and the kind that provides each (nullblk, nvme, scsi; dm for the stack).
 */
export function contextFor(kinds: ReadonlyMap<string, string>, files: ScenarioFileOptions = {}): ParseContext {
  const names = new Set(kinds.keys());
  const policy = dataFilePolicy(files);
  return {
    devices: names,
    devPath(f: Field): string {
      const p = f.required().devPath();
      if (!names.has(p.slice('/dev/'.length))) f.fail(`unknown device ${p} (devices: ${[...names].map((n) => `/dev/${n}`).join(', ')})`);
      return p;
    },
    kindOf: (path) => kinds.get(path.slice('/dev/'.length)),
    dataFile: (f, maxBytes) => readDataFile(f, policy, maxBytes),
  };
}

/** Steps written as YAML on their own (a list, or one `kind: {…}` mapping) against known devices. */
export function parseStepsText(text: string, devices: ReadonlyMap<string, string>, source = 'steps', files: ScenarioFileOptions = {}): ParsedStep[] {
  const doc = parseYamlText(text, source);
  const ctx = contextFor(devices, files);
  const list = Array.isArray(doc) ? doc : [doc];
  return new Field(source, list).list(SCENARIO_LIMITS.steps).map((f) => parseStep(f, ctx));
}

function parseLab(f: Field): LabOptions {
  if (!f.present) return {};
  f.obj(LAB_SPEC);
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
  if (!def) f.fail(`unknown step ${quotedKey(kind)} (allowed: ${kinds.join(', ')})`);
  return def.parse(f.key(kind), ctx);
}
