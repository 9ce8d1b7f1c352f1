/** Admin command handlers (Base 5): queues, Identify, Get/Set Features, Get Log Page. */
import { fail, ok, type CmdResult, type Request } from './command.js';
import { activeNsList, identifyController, identifyControllerZns, identifyNamespace, identifyNamespaceNvm, identifyNamespaceZns } from './identify.js';
import { AdminOpc, Cns, CSE, Csi, Fid, HBS, HBS_SIZE, IDENTIFY_SIZE, IoOpc, Lid, NSID_BROADCAST, QUEUE_PC, Status } from './spec.js';
import { NVME_LIMITS } from './defaults.js';

export function adminCommand(req: Request): CmdResult {
  const { cmd, ctrl } = req;
  switch (cmd.opcode) {
    case AdminOpc.CREATE_IO_CQ:
    case AdminOpc.CREATE_IO_SQ: {
      const qid = cmd.cdw10 & 0xffff;
      const size = (cmd.cdw10 >>> 16) + 1;
      // CAP.CQR = 1: queues must be physically contiguous (Base 3.1.3.1).
      if (!(cmd.cdw11 & QUEUE_PC)) return fail(Status.INVALID_FIELD);
      const st = cmd.opcode === AdminOpc.CREATE_IO_CQ ? ctrl.createCq(qid, cmd.prp1, size) : ctrl.createSq(qid, cmd.prp1, size, cmd.cdw11 >>> 16);
      return st ? fail(st) : ok();
    }
    case AdminOpc.DELETE_IO_SQ:
    case AdminOpc.DELETE_IO_CQ: {
      const qid = cmd.cdw10 & 0xffff;
      const st = cmd.opcode === AdminOpc.DELETE_IO_SQ ? ctrl.deleteSq(qid) : ctrl.deleteCq(qid);
      return st ? fail(st) : ok();
    }
    case AdminOpc.IDENTIFY:
      return identify(req);
    case AdminOpc.GET_FEATURES:
    case AdminOpc.SET_FEATURES:
      return features(req);
    case AdminOpc.GET_LOG_PAGE:
      return getLogPage(req);
    default:
      return fail(Status.INVALID_OPCODE);
  }
}

function send(req: Request, data: Uint8Array): CmdResult {
  const st = req.ctrl.c2h(req.cmd, data);
  return st ? fail(st) : ok();
}

function identify(req: Request): CmdResult {
  const { cmd, ctrl } = req;
  const cns = cmd.cdw10 & 0xff;
  const csi = cmd.cdw11 >>> 24;
  const nsid = cmd.nsid;
  const nsFor = (): ReturnType<typeof ctrl.namespace> | number => {
    if (nsid === 0 || nsid === NSID_BROADCAST || nsid > NVME_LIMITS.maxNamespaces) return Status.INVALID_NSID;
    return ctrl.namespace(nsid);
  };
  switch (cns) {
    case Cns.CTRL:
      return send(req, identifyController(ctrl));
    case Cns.NS: {
      const ns = nsFor();
      if (typeof ns === 'number') return fail(ns);
      // An NSID that is valid but not allocated reads as zeros (Base 5.17.2.1).
      return send(req, ns ? identifyNamespace(ns) : new Uint8Array(IDENTIFY_SIZE));
    }
    case Cns.ACTIVE_NS_LIST:
      if (nsid >= 0xfffffffe) return fail(Status.INVALID_NSID);
      return send(req, activeNsList(ctrl, nsid));
    case Cns.CSI_NS: {
      const ns = nsFor();
      if (typeof ns === 'number') return fail(ns);
      if (!ns) return send(req, new Uint8Array(IDENTIFY_SIZE));
      if (csi === Csi.NVM) return send(req, identifyNamespaceNvm(ns));
      if (csi === Csi.ZNS && ns.zones) return send(req, identifyNamespaceZns(ns));
      return fail(Status.INVALID_FIELD);
    }
    case Cns.CSI_CTRL:
      if (csi === Csi.NVM) return send(req, new Uint8Array(IDENTIFY_SIZE));
      if (csi === Csi.ZNS) return send(req, identifyControllerZns(ctrl));
      return fail(Status.INVALID_FIELD);
    default:
      return fail(Status.INVALID_FIELD);
  }
}

function features(req: Request): CmdResult {
  const { cmd, ctrl } = req;
  const fid = cmd.cdw10 & 0xff;
  const set = cmd.opcode === AdminOpc.SET_FEATURES;
  if (set && cmd.cdw10 & (1 << 31)) return fail(Status.FEAT_NOT_SAVEABLE);
  switch (fid) {
    case Fid.HOST_BEHAVIOR: {
      if (!set) {
        const b = new Uint8Array(HBS_SIZE);
        new DataView(b.buffer).setUint16(HBS.CDFE, ctrl.cdfe, true);
        return send(req, b);
      }
      const data = ctrl.h2c(cmd, HBS_SIZE);
      if (typeof data === 'number') return fail(data);
      const cdfe = new DataView(data.buffer, data.byteOffset).getUint16(HBS.CDFE, true);
      // Enabling a format the controller does not support is an invalid field.
      if (cdfe & ~ctrl.ocfs & 0xffff) return fail(Status.INVALID_FIELD);
      ctrl.cdfe = cdfe;
      return ok();
    }
    case Fid.NUMBER_OF_QUEUES: {
      const max = ctrl.maxIoQueues - 1;
      if (set) {
        const nsqr = cmd.cdw11 & 0xffff;
        const ncqr = cmd.cdw11 >>> 16;
        if (nsqr === 0xffff || ncqr === 0xffff) return fail(Status.INVALID_FIELD);
        ctrl.numQueues = { nsqr: Math.min(nsqr, max), ncqr: Math.min(ncqr, max) };
      }
      return ok(((ctrl.numQueues.ncqr || max) << 16) | (ctrl.numQueues.nsqr || max));
    }
    case Fid.VOLATILE_WRITE_CACHE:
      // VWC is 0 (no volatile write cache): Get answers 0, Set is refused.
      return set ? fail(Status.INVALID_FIELD) : ok(0);
    default:
      return fail(Status.INVALID_FIELD);
  }
}

function getLogPage(req: Request): CmdResult {
  const { cmd, ctrl } = req;
  const lid = cmd.cdw10 & 0xff;
  const numd = (((cmd.cdw11 & 0xffff) * 0x10000) + (cmd.cdw10 >>> 16)) + 1;
  const len = numd * 4;
  const lpo = cmd.cdw12 + cmd.cdw13 * 2 ** 32;
  if (len > ctrl.maxTransfer) return fail(Status.INVALID_FIELD);
  let page: Uint8Array;
  switch (lid) {
    case Lid.ERROR_INFO:
      page = ctrl.errorLog();
      break;
    case Lid.CMD_EFFECTS: {
      page = new Uint8Array(CSE.SIZE);
      const v = new DataView(page.buffer);
      for (const op of Object.values(AdminOpc)) v.setUint32(CSE.ACS + op * 4, CSE.CSUPP, true);
      const csi = cmd.cdw14 >>> 24;
      const ops: number[] = [IoOpc.FLUSH, IoOpc.WRITE, IoOpc.READ, IoOpc.WRITE_ZEROES, IoOpc.DSM, IoOpc.COPY];
      if (csi === Csi.ZNS) ops.push(IoOpc.ZONE_MGMT_SEND, IoOpc.ZONE_MGMT_RECV, IoOpc.ZONE_APPEND);
      const changes = new Set<number>([IoOpc.FLUSH, IoOpc.WRITE, IoOpc.WRITE_ZEROES, IoOpc.DSM, IoOpc.COPY, IoOpc.ZONE_MGMT_SEND, IoOpc.ZONE_APPEND]);
      for (const op of ops) v.setUint32(CSE.IOCS + op * 4, CSE.CSUPP | (changes.has(op) ? CSE.LBCC : 0), true);
      break;
    }
    default:
      return fail(Status.INVALID_LOG_PAGE);
  }
  if (lpo % 4 || lpo > page.length) return fail(Status.INVALID_FIELD);
  const out = new Uint8Array(len);
  out.set(page.subarray(lpo, Math.min(page.length, lpo + len)));
  return send(req, out);
}
