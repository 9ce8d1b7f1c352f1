/**
 * The scenario format as a JSON Schema (draft 2020-12) and as text for `copylab explain`, both
 * generated from the key declarations the parser checks (ROOT_SPEC, LAB_SPEC, the device and
 * step plug-ins of registry.ts), so a plug-in registered there is covered without more work.
 */
import { ROOT_SPEC } from './parse.js';
import { DEVICE_KINDS, STEP_KINDS } from './registry.js';
import { stringify } from 'yaml';
import { objectSchema, type JsonSchema, type KeySpec, type ObjSpec } from './keys.js';

/** The schema's $id: where the package ships it (`copylab schema` prints the same text). */
export const SCHEMA_FILE = 'scenario.schema.json';

export function scenarioSchema(): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://copylab.invalid/${SCHEMA_FILE}`,
    title: 'copylab scenario',
    ...objectSchema(ROOT_SPEC),
  };
}

/** One explainable entry: a key (with its place) or a whole step/device/section. */
export interface Explained {
  /** Dotted place: `lab.fallback`, `devices.nvme.cdfe`, `steps.copy.ranges.src`. */
  readonly path: string;
  readonly what: 'key' | 'step' | 'device' | 'section';
  readonly key?: KeySpec;
  readonly object?: ObjSpec;
}

/** Every key, step, device kind and section of the format. */
export function explainEntries(): Explained[] {
  const out: Explained[] = [];
  const walk = (prefix: string, o: ObjSpec): void => {
    for (const [name, key] of Object.entries(o.keys)) {
      const path = `${prefix}.${name}`;
      out.push({ path, what: 'key', key, ...(key.object ? { object: key.object } : {}) });
      if (key.object) walk(path, key.object);
    }
  };
  for (const [name, key] of Object.entries(ROOT_SPEC.keys)) {
    if (name === 'devices' || name === 'steps') continue;
    out.push({ path: name, what: key.object ? 'section' : 'key', key, ...(key.object ? { object: key.object } : {}) });
    if (key.object) walk(name, key.object);
  }
  out.push({ path: 'devices', what: 'section', key: ROOT_SPEC.keys['devices']! });
  for (const d of DEVICE_KINDS) {
    out.push({ path: `devices.${d.kind}`, what: 'device', object: d.spec });
    walk(`devices.${d.kind}`, d.spec);
  }
  out.push({ path: 'steps', what: 'section', key: ROOT_SPEC.keys['steps']! });
  for (const s of STEP_KINDS) {
    out.push({ path: `steps.${s.kind}`, what: 'step', object: s.spec });
    walk(`steps.${s.kind}`, s.spec);
  }
  return out;
}

/** Entries a word names: an exact path, or a path ending in `.word` (`cdfe`, `copy`, `copy.ranges`). */
export function findExplained(word: string): Explained[] {
  const w = word.replace(/^\.+|\.+$/g, '');
  const all = explainEntries();
  const exact = all.filter((e) => e.path === w);
  if (exact.length) return exact;
  return all.filter((e) => e.path.endsWith(`.${w}`));
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** The text `copylab explain` prints for one entry. */
export function formatExplained(e: Explained): string {
  const lines: string[] = [];
  const title = e.what === 'step' ? `step ${e.path.slice('steps.'.length)}` : e.what === 'device' ? `device kind ${e.path.slice('devices.'.length)}` : e.path;
  lines.push(title);
  const desc = e.key?.description ?? e.object?.description;
  if (desc) lines.push(`  ${desc}`);
  if (e.key) {
    lines.push(`  type:     ${e.key.type}${e.key.required ? ' (required)' : ''}`);
    if (e.key.default !== undefined) lines.push(`  default:  ${show(e.key.default)}`);
    if (e.key.example !== undefined) lines.push(`  example:  ${e.path.split('.').pop()}: ${show(e.key.example)}`);
  }
  if (e.object && (e.what === 'step' || e.what === 'device')) {
    const ex: Record<string, unknown> = { ...e.object.example };
    if (!e.object.example) for (const [n, key] of Object.entries(e.object.keys)) if (key.example !== undefined && (key.required || e.what === 'step')) ex[n] = key.example;
    const name = e.path.split('.').pop()!;
    const flow = (v: unknown): string => stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trim();
    lines.push(`  example:  - ${e.what === 'step' ? `${name}: ${flow(ex)}` : flow({ kind: name, ...ex })}`);
  }
  if (e.object) {
    lines.push('  keys:');
    const width = Math.max(...Object.keys(e.object.keys).map((n) => n.length));
    for (const [n, key] of Object.entries(e.object.keys)) {
      const dflt = key.default !== undefined ? ` [default ${show(key.default)}]` : key.required ? ' [required]' : '';
      lines.push(`    ${n.padEnd(width)}  ${key.type}${dflt}: ${key.description}`);
    }
  }
  return lines.join('\n');
}
