import { describe, expect, it } from 'vitest';
import { runGc } from '../../src/app/gc/run.js';
import { GC_DEFAULTS } from '../../src/app/gc/options.js';
import { gcSpec, renderGcSvg } from '../../src/app/plot/gc.js';

describe('GC charts', () => {
  it('WAF vs spare factor with Desnoyers beside, and throughput / p99.9 over the run per path', async () => {
    const base = { ...GC_DEFAULTS, size: 128 * 1024 ** 2, overwrites: 1, seriesPoints: 8 };
    const runs = [0.2, 0.28].flatMap((sf) => (['host', 'copy'] as const).map((path) => runGc({ ...base, spareFactor: sf, path, zoneBytes: 2 * 1024 ** 2, timing: 'nvmevirt-zns' })));
    const spec = gcSpec(runs)!;
    expect(spec).not.toBeNull();
    const svg = (await renderGcSvg(runs))!;
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/Desnoyers greedy/);
    expect(svg).toMatch(/spare factor/);
    expect(svg).toMatch(/p99\.9 write latency/);
    expect(svg).toMatch(/host/);
  }, 300_000);
  it('nothing to draw for one untimed run', async () => {
    expect(await renderGcSvg([runGc({ ...GC_DEFAULTS, size: 64 * 1024 ** 2, spareFactor: 0.2, overwrites: 0.5 })])).toBeNull();
  });
});
