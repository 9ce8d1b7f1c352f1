/**
 * docs/architecture.md's "Adding a backend" and "Adding a copy strategy": every file they name
 * exists, and every identifier they name is in one of the files the section names (a renamed
 * function or a moved file fails here, not in a reader's hands).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';

const doc = readFileSync('docs/architecture.md', 'utf8');
/** JavaScript's own names the sections use. */
const BUILTINS = new Set(['WeakMap', 'RangeError', 'Map', 'Error']);

function section(title: string): string {
  const start = doc.indexOf(`### ${title}\n`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n#', start + 4);
  return doc.slice(start, end < 0 ? undefined : end);
}

describe.each(['Adding a backend', 'Adding a copy strategy'])('docs/architecture.md: %s', (title) => {
  it('names files that exist and identifiers that are in them', () => {
    const text = section(title);
    const files = [...new Set([...text.matchAll(/((?:src|devices|test|docs)\/[\w./-]+\.(?:ts|md))/g)].map((m) => m[1]!))];
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) expect(existsSync(f), f).toBe(true);
    const sources = files.filter((f) => f.endsWith('.ts')).map((f) => readFileSync(f, 'utf8')).join('\n');
    const idents = [...new Set([...text.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)(?:\(|`)/g)].map((m) => m[1]!))].filter((w) => !BUILTINS.has(w)).filter((w) => /[A-Z]|^[a-z]+[A-Z]/.test(w) || /^(attach|kind|planned|fallback|straight|alternatives|topBytes)$/.test(w));
    expect(idents.length).toBeGreaterThan(5);
    for (const id of idents) expect(sources.includes(id), `${title}: ${id} is in none of ${files.join(', ')}`).toBe(true);
  });
});
