import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { runScenario, ScenarioError } from '../../src/app/scenario/run.js';

const DEVS = `devices:
  - { kind: nullblk, name: nullb0, size: 4MiB, lbs: 4096, backing: memory, copy_max_hw_bytes: 1MiB }
`;

async function run(text: string) {
  return runScenario(parseScenarioText(text));
}

describe('scenario ring step', () => {
  it("runs the issue's example batch as written", async () => {
    const r = await run(`${DEVS}steps:
  - ring:
      entries: 8            # SQ size; cq_entries optional
      submit:
        - { op: read, dev: /dev/nullb0, offset: 0, length: 4KiB, user_data: 1, flags: [link] }
        - { op: copy, dev: /dev/nullb0, ranges: [ { src: 0, dst: 1MiB, length: 64KiB } ], user_data: 2 }
        - { op: nop, user_data: 3, flags: [cqe_skip_success] }
      expect: [ { user_data: 1, res: 4096 }, { user_data: 2, res: 65536 } ]
`);
    expect(r.steps[0]).toMatchObject({ ok: true, res: 2 });
    expect(r.steps[0]!.details).toEqual({ cqes: [{ user_data: 1, res: 4096 }, { user_data: 2, res: 65536 }] });
  });

  it('a listed CQE that never arrives, a wrong res and an unlisted CQE each fail the step', async () => {
    const r = await run(`${DEVS}steps:
  - ring:
      submit:
        - { op: nop, user_data: 1 }
        - { op: nop, user_data: 2 }
        - { op: write, dev: /dev/nullb0, offset: 4MiB, length: 4KiB, user_data: 4 }
      expect: [ { user_data: 1, res: 0 }, { user_data: 3, res: 0 }, { user_data: 4, res: -EIO } ]
`);
    expect(r.steps[0]!.ok).toBe(false);
    expect(r.steps[0]!.message).toMatch(/no CQE for user_data 3/);
    expect(r.steps[0]!.message).toMatch(/user_data 4: expected res -EIO, got -ENOSPC/);
    expect(r.steps[0]!.message).toMatch(/unexpected CQE user_data 2/);
  });

  it('errors by name, links cancelled, drain on a chain member orders later SQEs, more SQEs than entries', async () => {
    const r = await run(`${DEVS}steps:
  - ring:
      entries: 2
      submit:
        - { op: write, dev: /dev/nullb0, offset: 0, length: 8KiB, user_data: 1, flags: [async, link] }
        - { op: read, dev: /dev/nullb0, offset: 0, length: 8KiB, user_data: 2, flags: [drain] }
        - { op: read, dev: /dev/nullb0, offset: 4MiB, length: 4KiB, user_data: 3, flags: [link] }
        - { op: nop, user_data: 4 }
      expect: [ { user_data: 1, res: 8192 }, { user_data: 2, res: 8192 }, { user_data: 3, res: 0 }, { user_data: 4, res: -ECANCELED } ]
`);
    // The read at the end of the device returns 0 bytes: a short read, which cancels its link.
    expect(r.steps[0]!.message).toBe('4 SQE(s), 4 CQE(s): 1→8192 2→8192 3→0 4→-ECANCELED');
    expect(r.ok).toBe(true);
  });

  it('bad ring steps are scenario errors naming the key', async () => {
    const bad: [string, RegExp][] = [
      ['- ring: { submit: [ { op: teleport } ] }', /submit\[0\]\.op: expected one of/],
      ['- ring: { submit: [ { op: nop, dev: /dev/nullb0 } ] }', /a nop names no device/],
      ['- ring: { submit: [ { op: read, dev: /dev/nullb0 } ] }', /submit\[0\]\.length: is required/],
      ['- ring: { submit: [ { op: nop, flags: [sticky] } ] }', /flags\[0\]: expected one of link, hardlink/],
      ['- ring: { submit: [ { op: read, dev: /dev/nullb9, length: 4KiB } ] }', /unknown device \/dev\/nullb9/],
      ['- ring: { entries: 0, submit: [] }', /entries: expected an integer in 1\.\.32768/],
      ['- ring: { submit: [], expect: [ { user_data: 1, res: -EWHAT } ] }', /unknown errno/],
    ];
    for (const [step, msg] of bad) {
      await expect(run(`${DEVS}steps:\n  ${step}\n`)).rejects.toThrow(ScenarioError);
      await expect(run(`${DEVS}steps:\n  ${step}\n`)).rejects.toThrow(msg);
    }
  });
});
