/**
 * One TCP connection of the target: the PDU stream, the login phase (negotiation in login.ts),
 * then the full feature phase (RFC 7143 3.x, 11.x): commands ordered by CmdSN, SCSI Command →
 * Data-In/SCSI Response through the SCSI model's execute, Data-Out solicited by R2T, NOP-Out/In
 * and Reject here; Task Management (task-management.ts), Text (text-exchange.ts) and Logout
 * (logout.ts) through the connection's PhaseContext.
 * It never throws out of a handler: a malformed PDU gets a Reject (RFC 7143 11.17) or, where
 * the protocol says the connection cannot go on, the connection is closed.
 */
import type { Socket } from 'node:net';
import {
  BHS_IMMEDIATE, BHS_LENGTH, Cmd, Data, FLAG_FINAL, ISCSI_LIMITS, Login, LoginStatus, Off, Op, R2t,
  RejectReason, RESERVED_TAG, Rsp, Stage,
} from './constants.js';
import { PduReader, encodePdu, newBhs, opcodeOf, snAdd, type DigestState, type Pdu, type PduEvent } from './pdu.js';
import { be16, be32, putBe16, putBe32 } from '../../core/util/bytes.js';
import { encodeText, parseText } from './text.js';
import { defaultConnectionParams, type TargetPrefs } from './params.js';
import { loginFlags, loginStep, newLoginState, type LoginState } from './login.js';
import { Session, type SessionMember } from './session.js';
import type { PhaseContext, PhaseHost } from './phase-context.js';
import { onTaskManagement } from './task-management.js';
import { TextExchange } from './text-exchange.js';
import { onLogout } from './logout.js';
import { decodeLun, encodeLun } from './lun.js';
import { nextTtt } from './ttt.js';
import type { ExportedTarget } from './target-config.js';
import { exactDataOut, rwShape, transferBlocks, withTransferBlocks } from '../../../devices/scsi/transfer-length.js';
import type { AdmissionLimits, DataOutBudget } from './admission.js';
import { Status } from '../../../devices/scsi/constants.js';
import { checkCondition, invalidFieldInCdb, type ScsiResult } from '../../../devices/scsi/sense.js';

/** What a connection needs from the target server. */
export interface TargetHost extends PhaseHost {
  readonly prefs: TargetPrefs;
  readonly admission: AdmissionLimits;
  /** Data-Out bytes buffered across the target. */
  readonly dataOut: DataOutBudget;
  /** The connection reached the full feature phase (it no longer counts as logging in). */
  loginComplete(conn: Connection): void;
  findTarget(iqn: string): ExportedTarget | undefined;
  /** Makes a session or joins one; a login status on failure. */
  bindSession(conn: Connection, st: LoginState, isid: string, tsih: number, cmdSN: number): Session | number;
  connectionClosed(conn: Connection): void;
  log(msg: string): void;
}

/** A SCSI command waiting for its Data-Out (the only state a command holds across PDUs). */
interface WriteTask {
  readonly itt: number;
  readonly lun: number;
  readonly cdb: Uint8Array;
  readonly edtl: number;
  readonly buf: Uint8Array;
  received: number;
  /** Where unsolicited data must end at the latest (immediate data counted). */
  unsolicitedEnd: number;
  /**
   * Unsolicited Data-Out may still come: nothing is solicited until the unsolicited data ends,
   * so R2Ts go out in increasing offsets after it (DataSequenceInOrder, RFC 7143 13.19).
   */
  unsolicitedOpen: boolean;
  unsolicitedDataSN: number;
  /** Next offset to solicit with an R2T. */
  nextSolicit: number;
  r2tSN: number;
  readonly r2ts: Map<number, { offset: number; length: number; received: number; dataSN: number }>;
}

export class Connection implements SessionMember {
  cid = 0;
  session: Session | null = null;
  private phase: 'login' | 'ffp' | 'closing' | 'closed' = 'login';
  private readonly digests: DigestState = { header: false, data: false };
  private readonly reader: PduReader;
  private statSN = 0;
  private readonly login: LoginState;
  private loginText: Uint8Array[] = [];
  private loginTextBytes = 0;
  private loginItt: number | null = null;
  private readonly tasks = new Map<number, WriteTask>();
  private readonly byTtt = new Map<number, WriteTask>();
  private bufferedDataOut = 0;
  /** Commands handed to the SCSI model and not completed yet, by ITT. */
  private readonly running = new Map<number, { readonly lun: number; aborted: boolean }>();
  /** Text requests and their long answers (text-exchange.ts). */
  private readonly text = new TextExchange();
  /** What the request handlers of the full feature phase use of this connection (phase-context.ts). */
  private io: PhaseContext | null = null;
  private paused = false;
  /** Ends a connection that has not reached the full feature phase in time (admission.ts). */
  private loginTimer: ReturnType<typeof setTimeout> | null;

  constructor(readonly sock: Socket, private readonly host: TargetHost) {
    this.login = newLoginState(defaultConnectionParams());
    this.loginTimer = setTimeout(() => {
      if (this.phase === 'login') this.close('login timeout');
    }, host.admission.loginTimeoutMs);
    this.loginTimer.unref();
    this.reader = new PduReader(this.digests, () => (this.phase === 'ffp' ? ISCSI_LIMITS.maxRecvDataSegmentLength : ISCSI_LIMITS.maxTextSegment), ISCSI_LIMITS.maxAhsBytes);
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', () => this.close('socket error'));
    sock.on('close', () => this.close('socket closed'));
    sock.on('drain', () => {
      if (this.paused) {
        this.paused = false;
        sock.resume();
      }
    });
  }

  private get ended(): boolean {
    return this.phase === 'closing' || this.phase === 'closed';
  }

  get idle(): boolean {
    return this.tasks.size === 0 && this.running.size === 0;
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    let events: PduEvent[];
    try {
      events = this.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    } catch {
      this.close('framing error');
      return;
    }
    // Every answer to this chunk's PDUs goes out in one writev when the chunk is done (a 4 KiB read
    // at queue depth 32 is otherwise two write syscalls per command: header, then data).
    this.sock.cork();
    try {
      for (const e of events) {
        if (this.ended) return;
        try {
          this.onEvent(e);
        } catch (err) {
          // A bug must not take the target down: this connection ends, others go on.
          this.host.log(`connection ${this.cid}: internal error: ${(err as Error).message}`);
          this.close('internal error');
          return;
        }
      }
    } finally {
      this.sock.uncork();
    }
  }

  private onEvent(e: PduEvent): void {
    switch (e.kind) {
      case 'pdu':
        return this.phase === 'login' ? this.onLoginPdu(e.pdu) : this.onFfpPdu(e.pdu);
      case 'header-digest-error':
        // The length fields cannot be trusted: ERL 0 ends the connection (RFC 7143 7.8).
        return this.close('header digest error');
      case 'data-digest-error':
        if (this.phase !== 'ffp') return this.close('data digest error during login');
        return this.reject(e.bhs, RejectReason.DATA_DIGEST_ERROR);
      case 'oversize':
      case 'bad-ahs':
        if (this.phase !== 'ffp') return this.close('oversize login PDU');
        // A data segment over our MaxRecvDataSegmentLength is a protocol error (RFC 7143 7.5).
        this.reject(e.bhs, RejectReason.PROTOCOL_ERROR);
        return this.failTaskOf(e.bhs);
    }
  }

  // ---------------------------------------------------------------- sending

  private send(bhs: Uint8Array, data: Uint8Array = new Uint8Array(0)): void {
    if (this.phase === 'closed') return;
    const parts = encodePdu(bhs, data, this.digests);
    if (parts.length === 1) this.sock.write(parts[0]!);
    else {
      // One PDU, one writev: header, data, padding and digests leave together.
      this.sock.cork();
      for (const p of parts) this.sock.write(p);
      this.sock.uncork();
    }
    if (!this.paused && this.sock.writableLength > ISCSI_LIMITS.maxPendingWriteBytes) {
      // Backpressure: stop reading until the initiator takes our responses.
      this.paused = true;
      this.sock.pause();
    }
  }

  /** Fills StatSN (advancing it), ExpCmdSN and MaxCmdSN. */
  private stamp(bhs: Uint8Array, advance = true): void {
    putBe32(bhs, Off.STATSN, this.statSN);
    if (advance) this.statSN = snAdd(this.statSN, 1);
    this.stampCmdSN(bhs);
  }

  private stampCmdSN(bhs: Uint8Array): void {
    const s = this.session;
    putBe32(bhs, Off.EXP_CMDSN, s ? s.expCmdSN : 0);
    putBe32(bhs, Off.MAX_CMDSN, s ? s.maxCmdSN : 0);
  }

  /** Reject (RFC 7143 11.17): the data segment is the rejected PDU's header. */
  private reject(badBhs: Uint8Array, reason: number): void {
    const b = newBhs(Op.REJECT, FLAG_FINAL);
    b[2] = reason;
    putBe32(b, Off.ITT, RESERVED_TAG);
    this.stamp(b);
    this.send(b, badBhs.slice(0, BHS_LENGTH));
  }

  close(reason: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.stopLoginTimer();
    this.dropAllTasks();
    if (this.session) this.session.connections.delete(this);
    this.host.connectionClosed(this);
    if (!this.sock.destroyed) {
      this.sock.end();
      // A peer that never reads must not keep the socket: give it a moment, then destroy.
      setTimeout(() => this.sock.destroy(), 2000).unref();
    }
    void reason;
  }

  private stopLoginTimer(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
  }

  /** Sends what is queued, then closes (logout, shutdown). */
  private closeAfterFlush(reason: string): void {
    this.phase = 'closing';
    this.sock.end(() => this.close(reason));
  }

  // ---------------------------------------------------------------- login

  private onLoginPdu(p: Pdu): void {
    const bhs = p.bhs;
    if (opcodeOf(bhs) !== Op.LOGIN_REQUEST) return this.close('non-login PDU during login'); // RFC 7143 6.x
    const flags = bhs[Off.FLAGS]!;
    const transit = (flags & Login.FLAG_TRANSIT) !== 0;
    const cont = (flags & Login.FLAG_CONTINUE) !== 0;
    const csg = (flags >> Login.CSG_SHIFT) & Login.STAGE_MASK;
    const nsg = flags & Login.STAGE_MASK;
    const itt = be32(bhs, Off.ITT);
    if (this.loginItt === null) {
      this.loginItt = itt;
      this.statSN = be32(bhs, Off.EXP_STATSN);
      this.cid = be16(bhs, Login.OFF_CID);
    }
    if (bhs[Login.OFF_VERSION_MIN]! > Login.VERSION) return this.loginFail(bhs, LoginStatus.UNSUPPORTED_VERSION);
    if (transit && cont) return this.loginFail(bhs, LoginStatus.INITIATOR_ERROR);
    this.loginTextBytes += p.data.length;
    if (this.loginTextBytes > ISCSI_LIMITS.maxTextBytes) return this.loginFail(bhs, LoginStatus.INITIATOR_ERROR);
    this.loginText.push(p.data.slice());
    if (cont) return this.loginReply(bhs, loginFlags(false, csg, 0), new Uint8Array(0), LoginStatus.SUCCESS);
    const text = Buffer.concat(this.loginText);
    this.loginText = [];
    this.loginTextBytes = 0;
    const keys = parseText(text);
    if (!keys) return this.loginFail(bhs, LoginStatus.INITIATOR_ERROR);
    const step = loginStep(this.login, csg, transit, nsg, keys, { findTarget: (n) => this.host.findTarget(n), discoveryTargets: (i) => this.host.visibleTargets(i), prefs: this.host.prefs });
    if (step.status !== LoginStatus.SUCCESS) return this.loginFail(bhs, step.status);
    if (step.transit && step.nsg === Stage.FULL_FEATURE_PHASE) {
      const isid = Buffer.from(bhs.subarray(Login.OFF_ISID, Login.OFF_ISID + Login.ISID_LENGTH)).toString('hex');
      const bound = this.host.bindSession(this, this.login, isid, be16(bhs, Login.OFF_TSIH), be32(bhs, Off.CMDSN));
      if (typeof bound === 'number') return this.loginFail(bhs, bound);
      this.session = bound;
      this.loginReply(bhs, loginFlags(true, csg, Stage.FULL_FEATURE_PHASE), encodeText(step.answer), LoginStatus.SUCCESS);
      this.phase = 'ffp';
      this.stopLoginTimer();
      this.host.loginComplete(this);
      // Digests start with the first PDU after the final login response (RFC 7143 13.1).
      this.digests.header = this.login.conn.headerDigest;
      this.digests.data = this.login.conn.dataDigest;
      return;
    }
    this.loginReply(bhs, loginFlags(step.transit, csg, step.nsg), encodeText(step.answer), LoginStatus.SUCCESS);
  }

  private loginReply(req: Uint8Array, flags: number, data: Uint8Array, status: number): void {
    if (data.length > ISCSI_LIMITS.maxTextSegment) return this.loginFail(req, LoginStatus.TARGET_ERROR);
    const b = newBhs(Op.LOGIN_RESPONSE, flags);
    b[Login.OFF_VERSION_MAX] = Login.VERSION;
    b[Login.OFF_VERSION_ACTIVE] = Login.VERSION;
    b.set(req.subarray(Login.OFF_ISID, Login.OFF_ISID + Login.ISID_LENGTH), Login.OFF_ISID);
    putBe16(b, Login.OFF_TSIH, this.session?.tsih ?? 0);
    b.set(req.subarray(Off.ITT, Off.ITT + 4), Off.ITT);
    const final = (flags & Login.FLAG_TRANSIT) !== 0 && (flags & Login.STAGE_MASK) === Stage.FULL_FEATURE_PHASE && status === LoginStatus.SUCCESS;
    putBe32(b, Off.STATSN, this.statSN);
    if (final) this.statSN = snAdd(this.statSN, 1);
    const cmdSN = be32(req, Off.CMDSN);
    putBe32(b, Off.EXP_CMDSN, this.session ? this.session.expCmdSN : cmdSN);
    putBe32(b, Off.MAX_CMDSN, this.session ? this.session.maxCmdSN : cmdSN);
    b[Login.OFF_STATUS_CLASS] = status >> 8;
    b[Login.OFF_STATUS_DETAIL] = status & 0xff;
    this.send(b, data);
  }

  /**
   * A login failure ends the connection after the response (RFC 7143 11.13.5); after a wrong
   * CHAP response the answer waits (admission.ts), and the connection reads nothing meanwhile.
   */
  private loginFail(req: Uint8Array, status: number): void {
    if (this.login.chapFailed && this.host.admission.chapFailureDelayMs > 0 && this.phase === 'login') {
      this.phase = 'closing';
      setTimeout(() => this.loginFailNow(req, status), this.host.admission.chapFailureDelayMs).unref();
      return;
    }
    this.loginFailNow(req, status);
  }

  private loginFailNow(req: Uint8Array, status: number): void {
    if (this.phase === 'closed') return;
    this.loginReply(req, req[Off.FLAGS]! & (Login.STAGE_MASK << Login.CSG_SHIFT), new Uint8Array(0), status);
    this.host.log(`login failed: status 0x${status.toString(16).padStart(4, '0')} (${this.login.initiatorName || 'unknown initiator'})`);
    this.closeAfterFlush('login failed');
  }

  // ---------------------------------------------------------------- full feature phase

  private onFfpPdu(p: Pdu): void {
    const bhs = p.bhs;
    const op = opcodeOf(bhs);
    const s = this.session!;
    const immediate = (bhs[Off.OPCODE]! & BHS_IMMEDIATE) !== 0;
    switch (op) {
      case Op.DATA_OUT:
        return this.onDataOut(p);
      case Op.SNACK_REQUEST:
        return this.reject(bhs, RejectReason.COMMAND_NOT_SUPPORTED); // ERL 0 (RFC 7143 11.16)
      case Op.NOP_OUT:
      case Op.SCSI_COMMAND:
      case Op.TASK_MGMT_REQUEST:
      case Op.TEXT_REQUEST:
      case Op.LOGOUT_REQUEST:
        break;
      case Op.LOGIN_REQUEST:
        return this.reject(bhs, RejectReason.PROTOCOL_ERROR); // login in FFP (RFC 7143 6.x)
      default:
        return this.reject(bhs, RejectReason.COMMAND_NOT_SUPPORTED);
    }
    if (s.discovery && (op === Op.SCSI_COMMAND || op === Op.TASK_MGMT_REQUEST)) return this.reject(bhs, RejectReason.PROTOCOL_ERROR);
    const cmdSN = be32(bhs, Off.CMDSN);
    // A NOP-Out answering a NOP-In carries no command (RFC 7143 11.18.1).
    if (op === Op.NOP_OUT && be32(bhs, Off.ITT) === RESERVED_TAG) return;
    // Copy what a queued command needs: the socket chunk under it may be reused by the reader.
    const pdu: Pdu = { bhs: bhs.slice(), ahs: p.ahs.slice(), data: p.data };
    if (op === Op.SCSI_COMMAND && (bhs[Off.FLAGS]! & Cmd.FLAG_WRITE) && !this.admitWrite(pdu)) return;
    const deliver = (): void => {
      if (this.phase !== 'ffp') return;
      this.dispatch(op, pdu);
    };
    if (immediate) return deliver();
    if (!s.order({ cmdSN, deliver })) {
      // Out of the window or a duplicate: silently ignored (RFC 7143 4.2.2.1).
      this.host.log(`connection ${this.cid}: CmdSN ${cmdSN} outside [${s.expCmdSN}, ${s.maxCmdSN}]: ignored`);
    }
  }

  private dispatch(op: number, p: Pdu): void {
    switch (op) {
      case Op.NOP_OUT:
        return this.onNopOut(p);
      case Op.SCSI_COMMAND:
        return this.onScsiCommand(p);
      case Op.TASK_MGMT_REQUEST:
        return onTaskManagement(this.phaseContext(), p);
      case Op.TEXT_REQUEST:
        return this.text.onRequest(this.phaseContext(), p);
      case Op.LOGOUT_REQUEST:
        return onLogout(this.phaseContext(), p);
    }
  }

  private phaseContext(): PhaseContext {
    return (this.io ??= {
      self: this,
      session: this.session!,
      host: this.host,
      login: this.login,
      sock: this.sock,
      send: (bhs, data) => this.send(bhs, data),
      stamp: (bhs) => this.stamp(bhs),
      reject: (bhs, reason) => this.reject(bhs, reason),
      closeAfterFlush: (reason) => this.closeAfterFlush(reason),
    });
  }

  private onNopOut(p: Pdu): void {
    const b = newBhs(Op.NOP_IN, FLAG_FINAL);
    b.set(p.bhs.subarray(Off.LUN, Off.LUN + 8), Off.LUN);
    b.set(p.bhs.subarray(Off.ITT, Off.ITT + 4), Off.ITT);
    putBe32(b, Off.TTT, RESERVED_TAG);
    this.stamp(b);
    // Ping data comes back, up to what the initiator can receive (RFC 7143 11.19.2).
    this.send(b, p.data.subarray(0, this.login.conn.initiatorMaxRecvDataSegmentLength));
  }

  // ---------------------------------------------------------------- SCSI commands

  /** Checks a write's resource needs before it takes a CmdSN; false when rejected. */
  private admitWrite(p: Pdu): boolean {
    const edtl = be32(p.bhs, Cmd.OFF_EDTL);
    const budget = this.host.dataOut;
    if (edtl > ISCSI_LIMITS.maxTransferLength || this.tasks.size >= ISCSI_LIMITS.maxTasksPerConnection || this.bufferedDataOut + edtl > ISCSI_LIMITS.maxBufferedDataOut || budget.bytes + edtl > budget.cap) {
      this.respond(be32(p.bhs, Off.ITT), Status.TASK_SET_FULL, new Uint8Array(0), 0, 0);
      // The command still consumes its CmdSN (it was received).
      this.session!.order({ cmdSN: be32(p.bhs, Off.CMDSN), deliver: () => {} });
      return false;
    }
    return true;
  }

  private cdbOf(p: Pdu): Uint8Array | null {
    const base = p.bhs.subarray(Cmd.OFF_CDB, Cmd.OFF_CDB + Cmd.CDB_LENGTH);
    if (!p.ahs.length) return base;
    // Extended CDB AHS (RFC 7143 11.2.2.3): length (2), type 1, reserved, then CDB bytes 16…
    const len = be16(p.ahs, 0);
    if (p.ahs[2] !== Cmd.AHS_EXTENDED_CDB || len < 2 || 3 + len > p.ahs.length) return base;
    const ext = p.ahs.subarray(4, 4 + len - 1);
    const cdb = new Uint8Array(16 + ext.length);
    cdb.set(base, 0);
    cdb.set(ext, 16);
    return cdb;
  }

  private onScsiCommand(p: Pdu): void {
    const bhs = p.bhs;
    const flags = bhs[Off.FLAGS]!;
    const itt = be32(bhs, Off.ITT);
    const lun = decodeLun(bhs);
    const edtl = be32(bhs, Cmd.OFF_EDTL);
    const cdb = this.cdbOf(p);
    if (!cdb || this.tasks.has(itt) || this.running.has(itt)) return this.reject(bhs, RejectReason.INVALID_PDU_FIELD);
    const write = (flags & Cmd.FLAG_WRITE) !== 0;
    const s = this.session!;
    if (!write) {
      if (p.data.length) return this.reject(bhs, RejectReason.PROTOCOL_ERROR); // data without W (RFC 7143 11.3.1)
      return this.execute(itt, lun, cdb, edtl, new Uint8Array(0), (flags & Cmd.FLAG_READ) !== 0);
    }
    const imm = p.data;
    if (imm.length > edtl || (imm.length && !s.params.immediateData) || imm.length > s.params.firstBurstLength) {
      return this.reject(bhs, RejectReason.PROTOCOL_ERROR);
    }
    if (imm.length === edtl) return this.execute(itt, lun, cdb, edtl, imm, (flags & Cmd.FLAG_READ) !== 0);
    // The target-wide budget, checked again now that the buffer is about to exist (admitWrite
    // saw it before other connections' commands were admitted).
    if (!this.host.dataOut.reserve(edtl)) return this.respond(itt, Status.TASK_SET_FULL, new Uint8Array(0), 0, 0);
    const buf = new Uint8Array(edtl);
    buf.set(imm, 0);
    // Unsolicited data: the immediate data and, with InitialR2T=No, Data-Out PDUs without a TTT
    // up to FirstBurstLength (RFC 7143 13.10, 13.14) — unless the F bit ends it first: F=1 on the
    // command says no unsolicited Data-Out follows (11.3.1). The rest is solicited by R2T.
    const final = (flags & FLAG_FINAL) !== 0;
    const unsolicited = s.params.initialR2T || final ? imm.length : Math.min(edtl, s.params.firstBurstLength);
    const task: WriteTask = {
      itt, lun, cdb, edtl, buf, received: imm.length, unsolicitedEnd: unsolicited, unsolicitedOpen: imm.length < unsolicited,
      unsolicitedDataSN: 0, nextSolicit: imm.length, r2tSN: 0, r2ts: new Map(),
    };
    this.tasks.set(itt, task);
    this.bufferedDataOut += edtl;
    this.solicit(task);
  }

  /** Sends R2Ts up to MaxOutstandingR2T, each at most MaxBurstLength (RFC 7143 11.8), once unsolicited data has ended. */
  private solicit(t: WriteTask): void {
    const s = this.session!;
    if (t.unsolicitedOpen) return;
    while (t.r2ts.size < s.params.maxOutstandingR2T && t.nextSolicit < t.edtl) {
      const length = Math.min(s.params.maxBurstLength, t.edtl - t.nextSolicit);
      const ttt = nextTtt();
      t.r2ts.set(ttt, { offset: t.nextSolicit, length, received: 0, dataSN: 0 });
      this.byTtt.set(ttt, t);
      const b = newBhs(Op.R2T, FLAG_FINAL);
      b.set(encodeLun(t.lun), Off.LUN);
      putBe32(b, Off.ITT, t.itt);
      putBe32(b, Off.TTT, ttt);
      this.stamp(b, false); // R2T carries StatSN without advancing it (RFC 7143 11.8.3)
      putBe32(b, R2t.OFF_R2TSN, t.r2tSN);
      t.r2tSN = snAdd(t.r2tSN, 1);
      putBe32(b, R2t.OFF_BUFFER_OFFSET, t.nextSolicit);
      putBe32(b, R2t.OFF_DESIRED_LENGTH, length);
      this.send(b);
      t.nextSolicit += length;
    }
  }

  private onDataOut(p: Pdu): void {
    const bhs = p.bhs;
    const itt = be32(bhs, Off.ITT);
    const ttt = be32(bhs, Off.TTT);
    const dataSN = be32(bhs, Data.OFF_DATASN);
    const offset = be32(bhs, Data.OFF_BUFFER_OFFSET);
    const final = (bhs[Off.FLAGS]! & FLAG_FINAL) !== 0;
    const t = ttt === RESERVED_TAG ? this.tasks.get(itt) : this.byTtt.get(ttt);
    if (!t || t.itt !== itt) return; // data of an aborted or finished task: dropped (RFC 7143 4.2.3.x)
    const len = p.data.length;
    if (ttt === RESERVED_TAG) {
      // Unsolicited data (RFC 7143 11.7.1, 13.14): only while it may come, in order, inside
      // FirstBurstLength. The F bit marks its last PDU; it ends at FirstBurstLength at the latest.
      if (!t.unsolicitedOpen || dataSN !== t.unsolicitedDataSN || offset !== t.received || offset + len > t.unsolicitedEnd) return this.sequenceError(bhs);
      t.unsolicitedDataSN = snAdd(t.unsolicitedDataSN, 1);
      if (final || offset + len === t.unsolicitedEnd) {
        t.unsolicitedOpen = false;
        t.nextSolicit = offset + len;
      }
    } else {
      const r = t.r2ts.get(ttt)!;
      if (dataSN !== r.dataSN || offset !== r.offset + r.received || r.received + len > r.length) return this.sequenceError(bhs);
      r.dataSN = snAdd(r.dataSN, 1);
      r.received += len;
      if (r.received === r.length || final) {
        if (r.received !== r.length) return this.sequenceError(bhs);
        t.r2ts.delete(ttt);
        this.byTtt.delete(ttt);
      }
    }
    t.buf.set(p.data, offset);
    t.received += len;
    if (t.received === t.edtl) {
      this.forget(t);
      return this.execute(t.itt, t.lun, t.cdb, t.edtl, t.buf, false);
    }
    this.solicit(t);
  }

  /**
   * A DataSN, offset or length out of sequence: a protocol error (RFC 7143 7.1.1). With
   * ErrorRecoveryLevel 0 the task cannot be recovered: it is dropped, the PDU is rejected and the
   * initiator's timeout ends the task on its side; the connection and other tasks go on.
   */
  private sequenceError(bhs: Uint8Array): void {
    const t = this.tasks.get(be32(bhs, Off.ITT));
    if (t) this.forget(t);
    this.reject(bhs, RejectReason.PROTOCOL_ERROR);
  }

  private failTaskOf(bhs: Uint8Array): void {
    if (opcodeOf(bhs) !== Op.DATA_OUT) return;
    const t = this.tasks.get(be32(bhs, Off.ITT));
    if (t) this.forget(t);
  }

  private forget(t: WriteTask): void {
    this.tasks.delete(t.itt);
    for (const ttt of t.r2ts.keys()) this.byTtt.delete(ttt);
    this.bufferedDataOut -= t.edtl;
    this.host.dataOut.release(t.edtl);
  }

  private dropAllTasks(): void {
    for (const t of [...this.tasks.values()]) this.forget(t);
  }

  /** Runs the command on the SCSI model and answers with Data-In and status (RFC 7143 10.x). */
  private execute(itt: number, lun: number, cdb: Uint8Array, edtl: number, dataOut: Uint8Array, read: boolean): void {
    const target = this.session!.target!;
    const array = target.array;
    const exported = lun >= 0 && target.luns.includes(lun);
    const modelLun = exported ? lun : -1;
    let runCdb = cdb;
    let overflow = 0;
    let underflow = 0;
    let skip = false;
    const shape = rwShape(cdb);
    const lu = exported ? array.lus[lun] : undefined;
    if (shape && lu) {
      // The SCSI transfer length against the EDTL (SAM-5 5.4.3, RFC 7143 11.4.5).
      const tl = transferBlocks(cdb, shape) * lu.lbs;
      if (shape.dir === 'write') {
        if (edtl < tl) {
          overflow = tl - edtl;
          const blocks = Math.floor(edtl / lu.lbs);
          if (blocks === 0 && shape.width === 1) skip = true;
          else runCdb = withTransferBlocks(cdb, shape, blocks);
        } else if (edtl > tl) underflow = edtl - tl;
      }
    }
    if (skip) return this.complete(itt, lun, edtl, read, shape, overflow, underflow, { status: Status.GOOD, senseData: new Uint8Array(0), dataIn: new Uint8Array(0) });
    // A command whose data cannot be cut (COMPARE AND WRITE: the model says how much it must
    // carry) and an EDTL that disagrees: INVALID FIELD IN CDB. libiscsi's CompareAndWrite tests
    // expect this.
    const exact = lu ? exactDataOut(cdb, lu.lbs) : undefined;
    if (exact && edtl !== exact.bytes) return this.complete(itt, lun, edtl, read, shape, 0, 0, checkCondition(invalidFieldInCdb(exact.field)));
    const now = array.executeNow(this.session!.initiatorPort, modelLun, runCdb, dataOut, Infinity, target.luns);
    if (now) return this.complete(itt, lun, edtl, read, shape, overflow, underflow, now);
    // The model completes asynchronously when the LU's medium is a block device; the task stays
    // known (TMF can abort it: then no response is sent, RFC 7143 4.2.3.x) until it completes.
    const running = { lun, aborted: false };
    this.running.set(itt, running);
    void array.executeAsync(this.session!.initiatorPort, modelLun, runCdb, dataOut, Infinity, target.luns).then((r) => {
      if (this.running.get(itt) === running) this.running.delete(itt);
      if (running.aborted || this.phase === 'closed') return;
      this.complete(itt, lun, edtl, read, shape, overflow, underflow, r);
    });
  }

  private complete(itt: number, lun: number, edtl: number, read: boolean, shape: ReturnType<typeof rwShape>, overflow: number, underflow: number, r: ScsiResult): void {
    let dataIn = read ? r.dataIn : new Uint8Array(0);
    if (read) {
      if (dataIn.length > edtl) {
        overflow = dataIn.length - edtl;
        dataIn = dataIn.subarray(0, edtl);
      } else if (dataIn.length < edtl && !(shape && shape.dir === 'write')) underflow = edtl - dataIn.length;
    }
    const residualFlags = overflow ? Rsp.FLAG_OVERFLOW : underflow ? Rsp.FLAG_UNDERFLOW : 0;
    const residual = overflow || underflow;
    if (dataIn.length) {
      const collapse = r.status === Status.GOOD; // status in the last Data-In (RFC 7143 11.7.2 S bit)
      this.sendDataIn(itt, lun, dataIn, collapse ? { status: r.status, flags: residualFlags, residual } : null);
      if (collapse) return;
    }
    this.respond(itt, r.status, r.senseData, residualFlags, residual, dataIn.length ? 1 : 0);
  }

  private sendDataIn(itt: number, lun: number, data: Uint8Array, status: { status: number; flags: number; residual: number } | null): void {
    const s = this.session!;
    const seg = Math.min(this.login.conn.initiatorMaxRecvDataSegmentLength, ISCSI_LIMITS.maxRecvDataSegmentLength * 4);
    const burst = s.params.maxBurstLength;
    let dataSN = 0;
    let burstLeft = burst;
    for (let off = 0; off < data.length; ) {
      const n = Math.min(seg, data.length - off, burstLeft);
      const last = off + n === data.length;
      burstLeft -= n;
      const endOfSequence = last || burstLeft === 0;
      if (burstLeft === 0) burstLeft = burst;
      let flags = endOfSequence ? FLAG_FINAL : 0;
      const b = newBhs(Op.DATA_IN, 0);
      if (last && status) {
        flags |= Data.FLAG_STATUS | status.flags;
        b[Data.OFF_STATUS] = status.status;
        putBe32(b, Data.OFF_RESIDUAL, status.residual);
        this.stamp(b);
      } else this.stampCmdSN(b);
      b[Off.FLAGS] = flags;
      b.set(encodeLun(lun), Off.LUN);
      putBe32(b, Off.ITT, itt);
      putBe32(b, Off.TTT, RESERVED_TAG);
      putBe32(b, Data.OFF_DATASN, dataSN++);
      putBe32(b, Data.OFF_BUFFER_OFFSET, off);
      this.send(b, data.subarray(off, off + n));
      off += n;
    }
  }

  /** SCSI Response (RFC 7143 11.4): sense goes in the data segment after a 2-byte SenseLength. */
  private respond(itt: number, status: number, sense: Uint8Array, flags: number, residual: number, expDataSN = 0): void {
    const b = newBhs(Op.SCSI_RESPONSE, FLAG_FINAL | flags);
    b[Rsp.OFF_RESPONSE] = Rsp.COMMAND_COMPLETED;
    b[Rsp.OFF_STATUS] = status;
    putBe32(b, Off.ITT, itt);
    this.stamp(b);
    putBe32(b, Rsp.OFF_EXP_DATASN, expDataSN);
    putBe32(b, Rsp.OFF_RESIDUAL, residual);
    let data = new Uint8Array(0);
    if (sense.length) {
      data = new Uint8Array(2 + sense.length);
      putBe16(data, 0, sense.length);
      data.set(sense, 2);
    }
    this.send(b, data);
  }

  // ---------------------------------------------------------------- task management

  hasTask(itt: number): boolean {
    return this.tasks.has(itt) || this.running.has(itt);
  }

  abortTasks(filter: (lun: number, itt: number) => boolean): number {
    let n = 0;
    for (const [itt, r] of [...this.running]) {
      if (filter(r.lun, itt)) {
        r.aborted = true;
        this.running.delete(itt);
        n++;
      }
    }
    for (const t of [...this.tasks.values()]) {
      if (filter(t.lun, t.itt)) {
        this.forget(t);
        n++;
      }
    }
    return n;
  }

  /** Graceful end (target shutdown): wait for tasks in flight, bounded, then close. */
  shutdown(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const started = Date.now();
      const tick = (): void => {
        if (this.phase === 'closed' || this.idle || Date.now() - started >= graceMs) {
          if (this.phase !== 'closed') this.closeAfterFlush('shutdown');
          resolve();
          return;
        }
        setTimeout(tick, 20).unref();
      };
      tick();
    });
  }
}
