/**
 * Scenario YAML: the example scenarios (and the default labs), mutated as text — lines dropped,
 * duplicated or swapped, numbers replaced by huge, negative or fractional ones, keys renamed,
 * values replaced by lists, maps, anchors and aliases, random characters spliced in — then
 * parsed. Invariant: the parser either returns a scenario or throws ScenarioError (a message
 * naming the key; `copylab run` exits 2), never anything else, and never takes longer than the
 * case deadline.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { ScenarioError } from '../../src/app/scenario/fields.js';
import { DEFAULT_SCENARIO_YAML } from '../../src/app/scenario/default-lab.js';
import { DEFAULT_ISCSI_SCENARIO_YAML } from '../../src/app/iscsi/default-scenario.js';
import type { Prng } from '../../src/core/util/prng.js';
import { invariant, type FuzzTarget } from '../engine.js';
import { chance, pick } from '../mutate.js';

interface State {
  readonly corpus: readonly string[];
  /** The yaml library's warnings (process.emitWarning) are muted while the target runs. */
  readonly emitWarning: typeof process.emitWarning;
  parsed: number;
  refused: number;
}

const NUMBERS = ['0', '-1', '1e309', '0.5', '18446744073709551616', '9007199254740993', '0x10', '1TiB', '999999PiB', '-4KiB', 'NaN', '.inf'];
const VALUES = ['[]', '{}', '~', '""', '[1, 2]', '{ a: 1 }', '&a x', '*a', '!!binary aGVsbG8=', '"\\u0000"', "'", 'yes', '/dev/../dev/nullb0'];

function mutateText(rng: Prng, text: string): string {
  const lines = text.split('\n');
  const n = 1 + rng.below(3);
  for (let k = 0; k < n; k++) {
    const i = rng.below(lines.length);
    const line = lines[i]!;
    switch (rng.below(7)) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, line);
        break;
      case 2: {
        const j = rng.below(lines.length);
        [lines[i], lines[j]] = [lines[j]!, line];
        break;
      }
      case 3:
        lines[i] = line.replace(/\d+(\.\d+)?/, pick(rng, NUMBERS));
        break;
      case 4:
        lines[i] = line.replace(/:\s*(.*)$/, `: ${pick(rng, VALUES)}`);
        break;
      case 5:
        lines[i] = line.replace(/([a-z_]+):/, `${pick(rng, ['size', 'kind', 'lbs', 'x', 'steps', 'lun', 'iqn', 'reach', 'token_scope', '<<'])}:`);
        break;
      default: {
        const at = rng.below(line.length + 1);
        lines[i] = line.slice(0, at) + pick(rng, ['{', '[', ':', '-', '#', '&', '*', '\t', '"', '\\', '%', '!']) + line.slice(at);
      }
    }
  }
  return lines.join('\n');
}

export const scenarioYaml: FuzzTarget<State> = {
  name: 'scenario-yaml',
  what: 'scenario YAML: the examples mutated as text, parsed',
  weight: 0.6,
  async setup() {
    const dir = join(process.cwd(), 'examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join(dir, f), 'utf8'));
    const emitWarning = process.emitWarning;
    process.emitWarning = () => {};
    return { corpus: [...files, DEFAULT_SCENARIO_YAML, DEFAULT_ISCSI_SCENARIO_YAML], emitWarning, parsed: 0, refused: 0 };
  },
  async one(s, rng) {
    const text = mutateText(rng, pick(rng, s.corpus));
    try {
      parseScenarioText(text, 'fuzz');
      s.parsed++;
    } catch (err) {
      invariant(err instanceof ScenarioError, `parse threw ${(err as Error)?.name}: ${(err as Error)?.message} for:\n${text.slice(0, 2000)}`);
      s.refused++;
    }
  },
  async check(s) {
    invariant(s.parsed + s.refused > 0, 'no case ran');
  },
  async teardown(s) {
    process.emitWarning = s.emitWarning;
  },
};
