/** The `timing:` key of devices (devices/timing/): a preset name or a preset with overrides. */
import type { KeySpec } from './keys.js';
import { presetNames, TIMING_BOUNDS, TIMING_ENUMS } from '../../../devices/timing/params.js';

export function timingKey(what: string): KeySpec {
  const presets = presetNames();
  const params = Object.fromEntries(
    Object.entries(TIMING_BOUNDS).map(([name, [min, max, kind]]) => [name, { type: kind === 'int' ? 'integer' : 'number', minimum: min, maximum: max }]),
  );
  return {
    schema: {
      anyOf: [
        { enum: presets },
        {
          type: 'object',
          properties: { preset: { enum: presets }, ...Object.fromEntries(Object.entries(TIMING_ENUMS).map(([k, v]) => [k, { enum: [...v] }])), ...params },
          additionalProperties: false,
        },
      ],
    },
    type: `a preset (${presets.join(', ')}) or { preset, …overrides } (${[...Object.keys(TIMING_BOUNDS), ...Object.keys(TIMING_ENUMS)].join(', ')})`,
    description: `the timing model of ${what} (modeled time): a preset name, or a preset with parameters overridden`,
    default: 'none',
    example: { preset: presets[1] ?? 'none' },
  };
}

