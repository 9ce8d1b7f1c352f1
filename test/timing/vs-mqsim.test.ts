import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveTiming } from '../../devices/timing/params.js';
import { PEER_WORKLOADS, runClosedLoop } from '../../src/harness/closed-loop.js';

// MQSim's own output for its shipped ssdconfig.xml with Ideal_Mapping_Table=true (copylab has no
// mapping-table cache), measured at the commit the file names (bench/peers/mqsim.json; figures
// carry over, MQSim's code does not). npm run bench:vs-mqsim prints all seven side by side.
const peer = JSON.parse(readFileSync(new URL('../../bench/peers/mqsim.json', import.meta.url), 'utf8')) as {
  results: Record<string, { ideal: { iops: number } }>;
};

// The workloads the model agrees on today; the three it does not (random reads at QD 128,
// random writes, sequential reads) are listed in docs/timing.md with the mechanisms that differ.
const AGREED = ['randread-4k-qd1', 'randread-4k-qd8', 'randread-4k-qd32', 'seqwrite-128k-qd8'];

describe("the mqsim preset against MQSim's figures", () => {
  it.each(AGREED)('%s: IOPS within 15% of MQSim (ideal mapping table)', (name) => {
    const w = PEER_WORKLOADS.find((x) => x.name === name)!;
    const r = runClosedLoop(resolveTiming('mqsim')!, w, { workingSetBytes: 4.8e9, requests: w.bs > 4096 ? 5_000 : 30_000 });
    const want = peer.results[name]!.ideal.iops;
    expect(Math.abs(r.iops / want - 1), `${name}: copylab ${r.iops.toFixed(0)} IOPS, MQSim ${want}`).toBeLessThanOrEqual(0.15);
  });
});
