/**
 * Every SVG image the README and docs/ show renders: rsvg-convert (librsvg, Debian's
 * librsvg2-bin) turns each into a PNG, so an SVG that a browser would show broken fails here.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { docFiles } from './blocks.js';

const ROOT = resolve('.');
/** The PNG signature and where IHDR keeps the width and height (PNG spec, 5.2 and 11.2.2). */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IHDR_WIDTH = 16;
const IHDR_HEIGHT = 20;

/** Images a markdown file shows: `![alt](path)` and `<img src="path">`, as paths from the root. */
function imagesOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const refs = [...text.matchAll(/!\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g), ...text.matchAll(/<img\s[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
  return refs.filter((r) => !/^[a-z]+:/.test(r)).map((r) => relative(ROOT, resolve(dirname(join(ROOT, file)), r.split('#')[0]!)));
}

/** rsvg-convert's verdict on an SVG file: the PNG's size, or its error. */
function render(svg: string, out: string): { width: number; height: number } | { error: string } {
  const r = spawnSync('rsvg-convert', ['--format', 'png', '--output', out, svg], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return { error: r.stderr || r.error?.message || `exit ${r.status}` };
  const png = readFileSync(out);
  if (!PNG_SIGNATURE.every((b, i) => png[i] === b)) return { error: 'not a PNG' };
  return { width: png.readUInt32BE(IHDR_WIDTH), height: png.readUInt32BE(IHDR_HEIGHT) };
}

const shown = [...new Set(docFiles(ROOT).flatMap(imagesOf))].filter((p) => p.endsWith('.svg'));
const work = mkdtempSync(join(tmpdir(), 'copylab-doc-images-'));

describe('doc images', () => {
  it('every image the docs show exists, and every SVG under docs/img is shown', () => {
    expect(shown.length).toBeGreaterThanOrEqual(3);
    for (const p of shown) expect(existsSync(join(ROOT, p)), p).toBe(true);
    for (const f of readdirSync(join(ROOT, 'docs/img')).filter((f) => f.endsWith('.svg'))) expect(shown).toContain(`docs/img/${f}`);
  });

  it.each(shown)('%s renders to a PNG (rsvg-convert)', (p) => {
    const r = render(join(ROOT, p), join(work, `${p.replace(/\W/g, '_')}.png`));
    expect(r).not.toHaveProperty('error');
    const { width, height } = r as { width: number; height: number };
    expect(width).toBeGreaterThan(200);
    expect(height).toBeGreaterThan(100);
  });

  it('a broken SVG does not: the check can fail', () => {
    const svg = readFileSync(join(ROOT, shown[0]!), 'utf8');
    const broken = join(work, 'broken.svg');
    writeFileSync(broken, svg.slice(0, Math.floor(svg.length / 2)));
    expect(render(broken, join(work, 'broken.png'))).toHaveProperty('error');
  });
});
