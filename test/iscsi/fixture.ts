/** The iSCSI tests' shared fixture: a target for a scenario on a free loopback port, and helpers. */
import { expect } from 'vitest';
import { parseScenarioText } from '../../src/app/scenario/parse.js';
import { buildLab } from '../../src/app/scenario/run.js';
import { exportTargets } from '../../src/app/iscsi/scenario.js';
import { IscsiTarget, type IscsiTargetOptions } from '../../src/app/iscsi/target.js';
import * as b from '../../devices/scsi/build.js';
import { TestInitiator } from './initiator.js';
import type { Lab } from '../../src/app/lab.js';

export interface Served {
  readonly lab: Lab;
  readonly target: IscsiTarget;
  readonly port: number;
}

/** Builds the scenario's lab and serves its `iscsi:` targets on 127.0.0.1, a free port. */
export async function serve(yaml: string, o: Omit<IscsiTargetOptions, 'targets'> = {}): Promise<Served> {
  const s = parseScenarioText(yaml, 'test');
  const lab = buildLab(s);
  const target = new IscsiTarget({ ...o, targets: exportTargets(lab, s.iscsi!) });
  const port = (await target.listen({ host: '127.0.0.1', port: 0 })).port;
  return { lab, target, port };
}

/** Closes the initiators, then the target and the lab. */
export async function unserve(served: Served, open: TestInitiator[]): Promise<void> {
  for (const i of open.splice(0)) i.close();
  await served.target.close(100);
  await served.lab.close();
}

/** A logged-in session (kept in `open` so unserve closes it). */
export async function login(port: number, open: TestInitiator[], o: Parameters<TestInitiator['login']>[0] = {}): Promise<TestInitiator> {
  const i = await TestInitiator.open(port);
  open.push(i);
  expect(await i.login(o)).toBe(true);
  return i;
}

/** The NAA designator of a LUN, read through INQUIRY VPD 83h over iSCSI. */
export async function naaOf(i: TestInitiator, lun: number): Promise<Uint8Array> {
  const r = await i.command(lun, b.inquiryCdb(0x83), { readLength: 255 });
  expect(r.status).toBe(0);
  return r.dataIn.slice(8, 24);
}
