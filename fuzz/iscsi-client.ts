/**
 * A raw iSCSI connection for the fuzzer and the soak command: sends PDUs (built with the
 * target's own encoder) or raw bytes, collects the target's PDUs, and logs in with a single
 * login PDU (security stage straight to the full feature phase, AuthMethod=None, RFC 7143 6.3).
 */
import { connect, type Socket } from 'node:net';
import { FLAG_FINAL, Login, Off, Op, RESERVED_TAG, Stage } from '../src/app/iscsi/constants.js';
import { PduReader, encodePdu, newBhs, opcodeOf, type DigestState, type Pdu } from '../src/app/iscsi/pdu.js';
import { be32, putBe32 } from '../src/core/util/bytes.js';
import { encodeText } from '../src/app/iscsi/text.js';

export class RawIscsi {
  readonly digests: DigestState = { header: false, data: false };
  private readonly reader = new PduReader(this.digests, () => 16 * 1024 * 1024, 1020);
  private readonly inbox: Pdu[] = [];
  private waiter: ((p: Pdu | null) => void) | null = null;
  closed = false;
  cmdSN = 1;
  expStatSN = 0;
  itt = 1;

  private constructor(readonly sock: Socket, keep: boolean) {
    sock.on('data', (c: Buffer) => {
      let events;
      try {
        events = this.reader.push(new Uint8Array(c));
      } catch {
        return;
      }
      if (!keep) return;
      for (const e of events) {
        if (e.kind !== 'pdu') continue;
        const p = { bhs: e.pdu.bhs.slice(), ahs: e.pdu.ahs.slice(), data: e.pdu.data.slice() };
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = null;
          w(p);
        } else if (this.inbox.length < 1024) this.inbox.push(p);
      }
    });
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.(null);
      this.waiter = null;
    });
    sock.on('error', () => {});
  }

  /** Connects; `keep` false discards whatever the target sends (fire-and-forget cases). */
  static open(port: number, keep = true): Promise<RawIscsi> {
    return new Promise((res, rej) => {
      const s = connect(port, '127.0.0.1', () => res(new RawIscsi(s, keep)));
      s.once('error', rej);
      s.setNoDelay(true);
    });
  }

  /** The next PDU, or null after `ms` or when the connection closed. */
  next(ms: number): Promise<Pdu | null> {
    const q = this.inbox.shift();
    if (q) return Promise.resolve(q);
    if (this.closed) return Promise.resolve(null);
    return new Promise((res) => {
      const t = setTimeout(() => {
        this.waiter = null;
        res(null);
      }, ms);
      this.waiter = (p) => {
        clearTimeout(t);
        res(p);
      };
    });
  }

  /** Waits for a PDU matching `pred`, dropping others; null on timeout or close. */
  async waitFor(pred: (p: Pdu) => boolean, ms: number): Promise<Pdu | null> {
    const end = Date.now() + ms;
    for (;;) {
      const left = end - Date.now();
      if (left <= 0) return null;
      const p = await this.next(left);
      if (!p || pred(p)) return p;
    }
  }

  send(bhs: Uint8Array, data: Uint8Array = new Uint8Array(0)): void {
    if (this.closed) return;
    for (const p of encodePdu(bhs, data, this.digests)) this.sock.write(p);
  }

  raw(bytes: Uint8Array): void {
    if (!this.closed) this.sock.write(bytes);
  }

  /** A login request PDU (RFC 7143 11.12). */
  loginBhs(csg: number, nsg: number, transit: boolean, isid = 0x123456): Uint8Array {
    const b = newBhs(Op.LOGIN_REQUEST | 0x40, (transit ? Login.FLAG_TRANSIT : 0) | (csg << Login.CSG_SHIFT) | (transit ? nsg : 0));
    b.set([0x80, 0, (isid >>> 16) & 0xff, (isid >>> 8) & 0xff, isid & 0xff, 0], Login.OFF_ISID);
    putBe32(b, Off.ITT, 0);
    putBe32(b, Off.CMDSN, this.cmdSN);
    putBe32(b, Off.EXP_STATSN, this.expStatSN);
    return b;
  }

  /** Logs in in one PDU; true when the target moved to the full feature phase. */
  async login(initiator: string, target: string, keys: [string, string][] = [], isid = 0x123456, ms = 3000): Promise<boolean> {
    const text = encodeText([['InitiatorName', initiator], ['TargetName', target], ['SessionType', 'Normal'], ['AuthMethod', 'None'], ...keys]);
    this.send(this.loginBhs(Stage.SECURITY_NEGOTIATION, Stage.FULL_FEATURE_PHASE, true, isid), text);
    const r = await this.waitFor((p) => opcodeOf(p.bhs) === Op.LOGIN_RESPONSE, ms);
    if (!r || r.bhs[Login.OFF_STATUS_CLASS] !== 0) return false;
    this.expStatSN = (be32(r.bhs, Off.STATSN) + 1) >>> 0;
    return (r.bhs[Off.FLAGS]! & Login.STAGE_MASK) === Stage.FULL_FEATURE_PHASE;
  }

  /** NOP-Out ping (immediate); true when the NOP-In came back within `ms`. */
  async ping(ms: number): Promise<boolean> {
    const b = newBhs(Op.NOP_OUT | 0x40, FLAG_FINAL);
    const itt = this.itt++ >>> 0;
    putBe32(b, Off.ITT, itt);
    putBe32(b, Off.TTT, RESERVED_TAG);
    putBe32(b, Off.CMDSN, this.cmdSN);
    putBe32(b, Off.EXP_STATSN, this.expStatSN);
    this.send(b);
    return !!(await this.waitFor((p) => opcodeOf(p.bhs) === Op.NOP_IN && be32(p.bhs, Off.ITT) === itt, ms));
  }

  close(): void {
    this.sock.destroy();
  }
}
