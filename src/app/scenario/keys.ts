/**
 * Declarations of scenario keys: what each key takes, what it means, its default and an example.
 * The parser checks keys against these declarations (`Field.obj(spec)`), `copylab schema` turns
 * them into a JSON Schema and `copylab explain` prints them, so the three never disagree.
 * Every device and step plug-in declares its keys here-shaped next to its parser.
 */

/** A JSON Schema fragment (draft 2020-12 subset). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface KeySpec {
  /** What values the key takes, as a JSON Schema fragment (without description). */
  readonly schema: JsonSchema;
  /** The type in words (`size`, `integer 1..65536`, `one of inline, worker`). */
  readonly type: string;
  readonly description: string;
  readonly required?: boolean;
  readonly default?: unknown;
  readonly example?: unknown;
  /** Nested mapping (an object value, or the items of a list of mappings). */
  readonly object?: ObjSpec;
}

export interface ObjSpec {
  readonly description: string;
  /** A whole example (when the keys' own examples do not make a valid one together). */
  readonly example?: Readonly<Record<string, unknown>>;
  readonly keys: Readonly<Record<string, KeySpec>>;
}

type Extra = { required?: boolean; default?: unknown; example?: unknown };

const spec = (schema: JsonSchema, type: string, description: string, extra: Extra = {}, object?: ObjSpec): KeySpec => ({
  schema,
  type,
  description,
  ...extra,
  ...(object ? { object } : {}),
});

/** Sizes as the parser reads them (util/size.ts): bytes, or a number with a binary/decimal unit. */
export const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*([bB]|[kKmMgGtTpP]([iI]?[bB])?)?\\s*$';

export const k = {
  size: (description: string, extra?: Extra): KeySpec =>
    spec({ anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: SIZE_PATTERN }] }, 'size (bytes, or 4KiB, 1MiB, 2GiB…)', description, extra),
  int: (min: number, max: number, description: string, extra?: Extra): KeySpec =>
    spec({ type: 'integer', minimum: min, maximum: max }, `integer ${min}..${max}`, description, extra),
  /** A u32 written as a number or "0x…" (NVMe fields). */
  u32: (description: string, extra?: Extra): KeySpec =>
    spec({ anyOf: [{ type: 'integer', minimum: 0, maximum: 0xffffffff }, { type: 'string', pattern: '^0[xX][0-9a-fA-F]{1,8}$' }] }, 'u32 (a number or "0x…")', description, extra),
  bool: (description: string, extra?: Extra): KeySpec => spec({ type: 'boolean' }, 'true or false', description, extra),
  str: (description: string, extra?: Extra): KeySpec => spec({ type: 'string', minLength: 1 }, 'string', description, extra),
  /** A string or a number, read as text (sysfs values). */
  text: (description: string, extra?: Extra): KeySpec => spec({ type: ['string', 'number'] }, 'text (a string or a number)', description, extra),
  hex: (description: string, extra?: Extra): KeySpec => spec({ type: 'string', pattern: '^(0[xX])?[0-9a-fA-F\\s:,_]*$' }, 'hex bytes ("0a 0b", spaces allowed)', description, extra),
  oneOf: <T extends string | number>(choices: readonly T[], description: string, extra?: Extra): KeySpec =>
    spec({ enum: [...choices] }, `one of ${choices.join(', ')}`, description, extra),
  errno: (description: string, extra?: Extra): KeySpec =>
    spec({ anyOf: [{ type: 'string', pattern: '^\\s*-?([A-Za-z][A-Za-z0-9]*|\\d+)\\s*$' }, { type: 'integer' }] }, 'errno (EINVAL, EIO, … or a number)', description, extra),
  dev: (description: string, extra?: Extra): KeySpec =>
    spec({ type: 'string', pattern: '^/dev/[A-Za-z0-9_.\\-/]+$' }, 'device path (/dev/NAME)', description, extra),
  obj: (object: ObjSpec, extra?: Extra): KeySpec => spec(objectSchema(object), 'mapping', object.description, extra, object),
  list: (item: KeySpec, max: number, description: string, extra?: Extra): KeySpec =>
    spec({ type: 'array', maxItems: max, items: keySchema(item) }, `list of ${item.type} (at most ${max})`, description, extra, item.object),
  /** Any of several shapes (a value written short or long). */
  anyOf: (alternatives: readonly KeySpec[], type: string, description: string, extra?: Extra): KeySpec =>
    spec({ anyOf: alternatives.map(keySchema) }, type, description, extra, alternatives.find((a) => a.object)?.object),
  /** A mapping whose keys are names chosen by the user. */
  map: (value: KeySpec, description: string, extra?: Extra): KeySpec =>
    spec({ type: 'object', additionalProperties: keySchema(value) }, `mapping of name to ${value.type}`, description, extra),
};

/** The JSON Schema of one key, with its description, default and example. */
export function keySchema(key: KeySpec): JsonSchema {
  return {
    ...key.schema,
    description: key.description,
    ...(key.default !== undefined ? { default: key.default } : {}),
    ...(key.example !== undefined ? { examples: [key.example] } : {}),
  };
}

/** The JSON Schema of a mapping: its keys and no others. */
export function objectSchema(o: ObjSpec): JsonSchema {
  const required = Object.entries(o.keys).filter(([, v]) => v.required).map(([n]) => n);
  return {
    type: 'object',
    description: o.description,
    properties: Object.fromEntries(Object.entries(o.keys).map(([n, v]) => [n, keySchema(v)])),
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}

/** The keys a mapping allows (what the parser checks). */
export function keysOf(o: ObjSpec): readonly string[] {
  return Object.keys(o.keys);
}
