/**
 * Text Request / Text Response in the full feature phase (RFC 7143 11.10, 11.11): SendTargets
 * (appendix C) answered, any other key NotUnderstood (no renegotiation after login). A long
 * request arrives in parts (C bit), each acknowledged; a long answer leaves in parts the
 * initiator asks for with the TTT it was given. Bytes gathered are bounded (ISCSI_LIMITS).
 */
import { FLAG_FINAL, ISCSI_LIMITS, Off, Op, RejectReason, RESERVED_TAG, Text } from './constants.js';
import { newBhs, type Pdu } from './pdu.js';
import { be32, putBe32 } from '../../core/util/bytes.js';
import { encodeText, parseText } from './text.js';
import { discoveryListed } from './login.js';
import type { ExportedTarget } from './target-config.js';
import type { PhaseContext } from './phase-context.js';
import { nextTtt } from './ttt.js';

export class TextExchange {
  /** The rest of a long answer, under the TTT the initiator will ask for it with. */
  private rest: { ttt: number; data: Uint8Array } | null = null;
  private parts: Uint8Array[] = [];
  private bytes = 0;

  onRequest(io: PhaseContext, p: Pdu): void {
    const bhs = p.bhs;
    const flags = bhs[Off.FLAGS]!;
    const ttt = be32(bhs, Off.TTT);
    const itt = be32(bhs, Off.ITT);
    if (ttt !== RESERVED_TAG) {
      // The initiator asks for the rest of a long answer (RFC 7143 11.10.4).
      if (!this.rest || this.rest.ttt !== ttt) return io.reject(bhs, RejectReason.INVALID_PDU_FIELD);
      return this.respond(io, itt, this.rest.data);
    }
    this.bytes += p.data.length;
    if (this.bytes > ISCSI_LIMITS.maxTextBytes) {
      this.parts = [];
      this.bytes = 0;
      return io.reject(bhs, RejectReason.PROTOCOL_ERROR);
    }
    this.parts.push(p.data.slice());
    if (flags & Text.FLAG_CONTINUE) return this.respond(io, itt, new Uint8Array(0), true);
    const keys = parseText(Buffer.concat(this.parts));
    this.parts = [];
    this.bytes = 0;
    if (!keys) return io.reject(bhs, RejectReason.PROTOCOL_ERROR);
    const out: [string, string][] = [];
    for (const [k, v] of keys) {
      if (k === 'SendTargets') out.push(...sendTargets(io, v));
      else out.push([k, 'NotUnderstood']); // no renegotiation in the full feature phase
    }
    this.respond(io, itt, encodeText(out));
  }

  /** A Text Response: as much as the initiator receives at once, the rest kept under a new TTT. */
  private respond(io: PhaseContext, itt: number, data: Uint8Array, ack = false): void {
    const max = io.login.conn.initiatorMaxRecvDataSegmentLength;
    const more = data.length > max;
    const b = newBhs(Op.TEXT_RESPONSE, more || ack ? (more ? Text.FLAG_CONTINUE : 0) : FLAG_FINAL);
    putBe32(b, Off.ITT, itt);
    if (more) {
      const ttt = nextTtt();
      this.rest = { ttt, data: data.subarray(max) };
      putBe32(b, Off.TTT, ttt);
    } else {
      this.rest = null;
      putBe32(b, Off.TTT, ack ? nextTtt() : RESERVED_TAG);
    }
    io.stamp(b);
    io.send(b, data.subarray(0, max));
  }
}

/** SendTargets (RFC 7143 appendix C): a discovery session lists what its initiator may see; a normal one its own target. */
function sendTargets(io: PhaseContext, v: string): [string, string][] {
  const s = io.session;
  let list: ExportedTarget[];
  if (s.discovery) {
    // A target that wants CHAP for discovery is listed only to a session that proved its credentials (login.ts).
    const listed = io.host.visibleTargets(s.initiatorName).filter((t) => discoveryListed(io.login, t));
    list = v === 'All' ? listed : listed.filter((t) => t.iqn === v);
  } else list = v === '' || v === 'All' || v === s.target!.iqn ? [s.target!] : [];
  const portal = io.host.portalOf(io.sock);
  return list.flatMap((t) => [['TargetName', t.iqn], ['TargetAddress', portal]] as [string, string][]);
}
