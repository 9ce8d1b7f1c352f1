/**
 * The iSCSI target over real TCP with a byte-level test initiator: the data path (writes with
 * immediate data and R2T, EXTENDED COPY and a ROD token copy inside the target, reads back),
 * login variants (CHAP, discovery, digests, refusals) and the robustness rules (Reject for bad
 * opcodes and oversize segments, CmdSN window, no crash, clean shutdown).
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import type { IscsiTarget } from '../../src/app/iscsi/target.js';
import { DEFAULT_ISCSI_SCENARIO_YAML } from '../../src/app/iscsi/default-scenario.js';
import { BHS_LENGTH, Cmd, FLAG_FINAL, ISCSI_LIMITS, LoginStatus, Off, Op, RejectReason, Rsp } from '../../src/app/iscsi/constants.js';
import { newBhs, opcodeOf } from '../../src/app/iscsi/pdu.js';
import { be32, putBe32 } from '../../src/core/util/bytes.js';
import { parseText } from '../../src/app/iscsi/text.js';
import { crc32c } from '../../src/app/iscsi/crc32c.js';
import * as b from '../../devices/scsi/build.js';
import { TpcInSa, TpcOutSa } from '../../devices/scsi/constants.js';
import { pattern, eq } from '../helpers.js';
import { TestInitiator } from './initiator.js';
import { login, naaOf, serve, unserve } from './fixture.js';
import type { Lab } from '../../src/app/lab.js';

const CHAP_YAML = `${DEFAULT_ISCSI_SCENARIO_YAML}    - iqn: iqn.2024-01.org.copylab:secret
      luns: [ /dev/sda ]
      initiators: [ iqn.2024-01.org.copylab:alice ]
      chap: { user: alice, secret: alice-secret-1 }
`;

let lab: Lab;
let target: IscsiTarget;
let port = 0;
const open: TestInitiator[] = [];

const session = (o: Parameters<TestInitiator['login']>[0] = {}): Promise<TestInitiator> => login(port, open, o);

beforeEach(async () => {
  ({ lab, target, port } = await serve(CHAP_YAML));
});

afterEach(() => unserve({ lab, target, port }, open));

describe('iSCSI target: data path', () => {
  it('writes (immediate data + R2T), copies by EXTENDED COPY and by ROD token inside the target, reads back equal', async () => {
    const i = await session();
    const data = pattern(512 * 1024, 42, 0); // 1024 blocks: 64 KiB immediate, the rest solicited by R2T
    expect((await i.command(0, b.rw16Cdb(true, 0, 1024), { dataOut: data })).status).toBe(0);
    expect((await i.command(0, b.rw16Cdb(false, 0, 1024), { readLength: data.length })).dataIn).toEqualBytes(data);
    // EXTENDED COPY (LID1) from LUN 0 to LUN 1, issued to LUN 0: the data moves inside the array.
    const list = b.xcopyLid1({ listId: 7, cscds: [b.e4Descriptor(await naaOf(i, 0), 512), b.e4Descriptor(await naaOf(i, 1), 512)], segments: [b.b2bSegment({ src: 0, dst: 1, blocks: 1024, srcLba: 0, dstLba: 2048 })] });
    expect((await i.command(0, b.tpcOutCdb(TpcOutSa.EXTENDED_COPY_LID1, list.length), { dataOut: list })).status).toBe(0);
    expect((await i.command(1, b.rw16Cdb(false, 2048, 1024), { readLength: data.length })).dataIn).toEqualBytes(data);
    // POPULATE TOKEN on LUN 0, RECEIVE ROD TOKEN INFORMATION, WRITE USING TOKEN on LUN 1.
    const pt = b.populateTokenList([{ lba: 0, blocks: 1024 }]);
    expect((await i.command(0, b.tpcOutCdb(TpcOutSa.POPULATE_TOKEN, pt.length, 9), { dataOut: pt })).status).toBe(0);
    const rrti = await i.command(0, b.tpcInCdb(TpcInSa.RECEIVE_ROD_TOKEN_INFORMATION, 9, 4096), { readLength: 4096 });
    expect(rrti.status).toBe(0);
    const token = b.tokenFromRrti(rrti.dataIn)!;
    expect(token).not.toBeNull();
    const wut = b.writeUsingTokenList(token, [{ lba: 8192, blocks: 1024 }]);
    expect((await i.command(1, b.tpcOutCdb(TpcOutSa.WRITE_USING_TOKEN, wut.length, 10), { dataOut: wut })).status).toBe(0);
    expect((await i.command(1, b.rw16Cdb(false, 8192, 1024), { readLength: data.length })).dataIn).toEqualBytes(data);
    expect(lab.findDevice('/dev/sdb')!.stats.host_bytes).toBe(0); // nothing went through the lab's host
  });

  it('reports residual overflow and underflow (RFC 7143 11.4.5) and writes only what the smaller length allows', async () => {
    const i = await session();
    const r = await i.command(0, b.rw10Cdb(false, 0, 2), { readLength: 512 });
    expect([r.status, r.dataIn.length, r.flags & Rsp.FLAG_OVERFLOW, r.residual]).toEqual([0, 512, Rsp.FLAG_OVERFLOW, 512]);
    const u = await i.command(0, b.rw10Cdb(false, 0, 1), { readLength: 2048 });
    expect([u.status, u.dataIn.length, u.flags & Rsp.FLAG_UNDERFLOW, u.residual]).toEqual([0, 512, Rsp.FLAG_UNDERFLOW, 1536]);
    const w = await i.command(0, b.rw10Cdb(true, 100, 2), { dataOut: new Uint8Array(512).fill(0xbb) });
    expect([w.status, w.flags & Rsp.FLAG_OVERFLOW, w.residual]).toEqual([0, Rsp.FLAG_OVERFLOW, 512]);
    const back = (await i.command(0, b.rw10Cdb(false, 100, 2), { readLength: 1024 })).dataIn;
    expect(back.subarray(0, 512).every((x) => x === 0xbb) && back.subarray(512).every((x) => x === 0)).toBe(true);
  });

  it('CRC32C header and data digests: negotiated, checked, and a bad data digest is rejected', async () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4
    const i = await session({ digests: true });
    expect([i.keys.get('HeaderDigest'), i.keys.get('DataDigest')]).toEqual(['CRC32C', 'CRC32C']);
    const data = pattern(4096, 3, 0);
    expect((await i.command(0, b.rw16Cdb(true, 0, 8), { dataOut: data })).status).toBe(0);
    expect((await i.command(0, b.rw16Cdb(false, 0, 8), { readLength: 4096 })).dataIn).toEqualBytes(data);
    // A NOP-Out whose data digest is wrong: Reject with DATA DIGEST ERROR, the session goes on.
    const nop = newBhs(Op.NOP_OUT | 0x40, FLAG_FINAL);
    putBe32(nop, Off.ITT, 77);
    putBe32(nop, Off.TTT, 0xffffffff);
    i.send(nop, new Uint8Array(0));
    const bad = newBhs(Op.NOP_OUT | 0x40, FLAG_FINAL);
    putBe32(bad, Off.ITT, 78);
    putBe32(bad, Off.TTT, 0xffffffff);
    bad[7] = 4; // 4 data bytes
    const hd = new Uint8Array(4);
    new DataView(hd.buffer).setUint32(0, crc32c(bad), true);
    i.sendRaw(Buffer.concat([bad, hd, Uint8Array.of(1, 2, 3, 4), Uint8Array.of(0, 0, 0, 0)]));
    const answers = [await i.next(), await i.next()];
    expect(answers.map((p) => p && opcodeOf(p.bhs))).toEqual([Op.NOP_IN, Op.REJECT]);
    expect(answers[1]!.bhs[2]).toBe(RejectReason.DATA_DIGEST_ERROR);
    expect((await i.ping()) && true).toBe(true);
  });
});

describe('iSCSI target: login', () => {
  it('CHAP (MD5): the right secret logs in, a wrong one is AUTHENTICATION FAILURE, an unlisted initiator AUTHORIZATION FAILURE', async () => {
    await session({ initiator: 'iqn.2024-01.org.copylab:alice', target: 'iqn.2024-01.org.copylab:secret', chap: { user: 'alice', secret: 'alice-secret-1' } });
    const wrong = await TestInitiator.open(port);
    open.push(wrong);
    expect(await wrong.login({ initiator: 'iqn.2024-01.org.copylab:alice', target: 'iqn.2024-01.org.copylab:secret', chap: { user: 'alice', secret: 'not-the-secret' } })).toBe(false);
    expect(wrong.loginStatus).toBe(LoginStatus.AUTHENTICATION_FAILURE);
    const none = await TestInitiator.open(port);
    open.push(none);
    expect(await none.login({ initiator: 'iqn.2024-01.org.copylab:alice', target: 'iqn.2024-01.org.copylab:secret' })).toBe(false);
    expect(none.loginStatus).toBe(LoginStatus.AUTHENTICATION_FAILURE);
    const bob = await TestInitiator.open(port);
    open.push(bob);
    expect(await bob.login({ initiator: 'iqn.2024-01.org.copylab:bob', target: 'iqn.2024-01.org.copylab:secret' })).toBe(false);
    expect(bob.loginStatus).toBe(LoginStatus.AUTHORIZATION_FAILURE);
    const missing = await TestInitiator.open(port);
    open.push(missing);
    expect(await missing.login({ target: 'iqn.2024-01.org.copylab:nope' })).toBe(false);
    expect(missing.loginStatus).toBe(LoginStatus.NOT_FOUND);
  });

  it('discovery session: SendTargets=All lists the targets the initiator may see', async () => {
    const d = await session({ discovery: true });
    const t = newBhs(Op.TEXT_REQUEST | 0x40, FLAG_FINAL);
    putBe32(t, Off.ITT, 5);
    putBe32(t, Off.TTT, 0xffffffff);
    putBe32(t, Off.CMDSN, d.cmdSN);
    d.send(t, new TextEncoder().encode('SendTargets=All\0'));
    const r = await d.next();
    expect(r && opcodeOf(r.bhs)).toBe(Op.TEXT_RESPONSE);
    const names = parseText(r!.data)!.filter(([k]) => k === 'TargetName').map(([, v]) => v);
    expect(names).toEqual(['iqn.2024-01.org.copylab:lab']); // the CHAP target lists alice only
    expect(parseText(r!.data)!.find(([k]) => k === 'TargetAddress')![1]).toBe(`127.0.0.1:${port},1`);
  });

  it('negotiates the operational keys and answers unknown keys NotUnderstood', async () => {
    const i = await session({ extraKeys: [['MaxOutstandingR2T', '4'], ['X-com.example.Key', '1']] });
    expect(i.keys.get('MaxOutstandingR2T')).toBe('4');
    expect(i.keys.get('X-com.example.Key')).toBe('NotUnderstood');
    expect(i.keys.get('MaxRecvDataSegmentLength')).toBe(String(ISCSI_LIMITS.maxRecvDataSegmentLength));
    expect(i.keys.get('ErrorRecoveryLevel')).toBe('0');
  });
});

describe('iSCSI target: robustness', () => {
  it('a bad opcode is rejected (COMMAND NOT SUPPORTED), an oversize segment is a PROTOCOL ERROR, the session survives', async () => {
    const i = await session();
    const bad = newBhs(0x1e, FLAG_FINAL);
    i.send(bad);
    const r = await i.next();
    expect([r && opcodeOf(r.bhs), r?.bhs[2]]).toEqual([Op.REJECT, RejectReason.COMMAND_NOT_SUPPORTED]);
    expect(r!.data).toEqualBytes(bad.subarray(0, BHS_LENGTH));
    // A data segment over our MaxRecvDataSegmentLength: skipped without buffering, rejected.
    const big = i.commandBhs(0, b.rw16Cdb(true, 0, 1024), 1024 * 512, false, true);
    i.send(big, new Uint8Array(ISCSI_LIMITS.maxRecvDataSegmentLength + 512));
    const r2 = await i.next();
    expect([r2 && opcodeOf(r2.bhs), r2?.bhs[2]]).toEqual([Op.REJECT, RejectReason.PROTOCOL_ERROR]);
    const pong = await i.ping(new Uint8Array([1, 2, 3]));
    expect(pong && eq(pong.data, new Uint8Array([1, 2, 3]))).toBe(true);
    expect(target.connectionCount).toBe(1);
  });

  it('CmdSN outside the window is silently ignored (RFC 7143 4.2.2.1); the next in-window command runs', async () => {
    const i = await session();
    const tur = i.commandBhs(0, new Uint8Array(6), 0, false, false);
    putBe32(tur, Off.CMDSN, (be32(tur, Off.CMDSN) + ISCSI_LIMITS.cmdWindow + 5) >>> 0);
    i.send(tur);
    expect(await i.next(300)).toBeNull();
    i.cmdSN = be32(tur, Off.CMDSN) - ISCSI_LIMITS.cmdWindow - 5;
    expect((await i.command(0, new Uint8Array(6))).status).toBe(0);
  });

  it('garbage on the wire, a truncated header and many sessions do not bring the target down', async () => {
    for (let k = 0; k < 4; k++) {
      const g = await TestInitiator.open(port);
      open.push(g);
      g.sendRaw(pattern(4096 + k * 7, k, 0));
      g.sock.end();
    }
    const sessions = await Promise.all(Array.from({ length: 8 }, (_, n) => session({ initiator: `iqn.2024-01.org.copylab:host${n}` })));
    const results = await Promise.all(sessions.map((s) => s.command(0, b.readCapacity16Cdb(), { readLength: 32 })));
    expect(results.every((r) => r.status === 0)).toBe(true);
    expect(target.sessionCount).toBeGreaterThanOrEqual(8);
    const h = newBhs(Cmd.AHS_EXTENDED_CDB, 0);
    sessions[0]!.sendRaw(h.subarray(0, 20));
    expect((await sessions[1]!.ping()) !== null).toBe(true);
  });
});

describe('copylab serve iscsi', () => {
  it('starts, serves and stops cleanly on SIGTERM', async () => {
    const p = spawn(process.execPath, ['bin/copylab.js', 'serve', 'iscsi', '--portal', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const listening = await new Promise<number>((res, rej) => {
      const t = setTimeout(() => rej(new Error('no listening line')), 15000);
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          res(Number(m[1]));
        }
      });
    });
    const i = await TestInitiator.open(listening);
    expect(await i.login()).toBe(true);
    expect((await i.command(0, new Uint8Array(6))).status).toBe(0);
    const code = await new Promise<number | null>((res) => {
      p.once('exit', (c) => res(c));
      p.kill('SIGTERM');
    });
    i.close();
    expect(code).toBe(0);
    expect(out).toContain('stopped');
  }, 30000);
});
