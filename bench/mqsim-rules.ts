/**
 * `npm run bench:mqsim-rules`: why MQSim's chips sit idle with reads queued for them
 * (docs/timing.md, "Against MQSim"). A small discrete-event model of the rules MQSim's flash
 * back end follows, written from its behaviour (no MQSim code), run on 4 KiB random reads with
 * an ideal mapping table, as the bench:vs-mqsim workloads are:
 *
 * - a chip works on one command at a time, from its command cycles to the end of its page's
 *   transfer (TSU_Base::issue_command_to_chip, only to an idle chip);
 * - a command's cycles hold the channel (ReadCommandTime, 290 ns), then the die senses (tR);
 * - a page sensed while its channel is busy waits in a FIFO per channel, its chip with it
 *   (NVM_PHY_ONFI_NVDDR2::handle_ready_signal_from_chip, WaitingReadTX);
 * - when the channel frees, a waiting page leaves first; only a channel with no page waiting
 *   is signalled idle, and only then is a chip commanded: its chips in round robin, one command
 *   per idle signal (NVM_PHY_ONFI_NVDDR2::Execute_simulator_event,
 *   TSU_Base::handle_channel_idle_signal); a new read is issued at once only to an idle chip on
 *   an idle channel (TSU_Priority_OutOfOrder::Schedule).
 *
 * Beside them, the same with commands first: an idle chip is commanded before the waiting pages
 * leave (a 290 ns command slipped in ahead of a 12 µs transfer). MQSim's figures (bench/peers/mqsim.json, ideal)
 * are printed beside: the data-first rules give them within a few percent; commands-first gives
 * what copylab's mqsim preset gives (about 310-320 k at QD 128), because copylab fixes each read's
 * time when it is issued and a later read's page cannot push back an earlier read's command.
 *
 * A benchmark, not a test (it prints figures).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/core/thread/entries.js';
import { Prng } from '../src/core/util/prng.js';
import { table } from './common.js';

/** MQSim's shipped geometry and timings (bench/peers/mqsim.json "ssdconfig"), ns. */
const CHANNELS = 8;
const CHIPS_PER_CHANNEL = 4;
const T_R = 75_000;
/** ReadCommandTime[1] = tCS + 6 tWC + tWB + tRR (ONFI_Channel_NVDDR2 defaults). */
const T_CMD = 290;
/** 4096 bytes at 3 ns per byte (NVDDR2 at 333 MT/s: two bytes per tDSC of 6 ns). */
const T_XFER = 4096 * 3;
/** A completion back to the host and the next request in (PCIe: 4 KiB at 4 GB/s). */
const T_HOST = 1_000;
/** Requests per run, the first fifth not measured (a limit on everything). */
const REQUESTS = 200_000;

type State = 'idle' | 'busy';

function run(qd: number, dataFirst: boolean): { iops: number; meanUs: number } {
  const chips = CHANNELS * CHIPS_PER_CHANNEL;
  const queue: number[][] = Array.from({ length: chips }, () => []); // issue times of queued reads
  const chip: State[] = new Array<State>(chips).fill('idle');
  const current = new Float64Array(chips);
  const busy = new Uint8Array(CHANNELS);
  const waiting: number[][] = Array.from({ length: CHANNELS }, () => []);
  const rr = new Uint8Array(CHANNELS);
  // Events: a binary heap of (time, sequence) with their actions.
  const times: number[] = [];
  const seqs: number[] = [];
  const acts: (() => void)[] = [];
  let seq = 0;
  let now = 0;
  const less = (a: number, b: number): boolean => times[a]! < times[b]! || (times[a] === times[b] && seqs[a]! < seqs[b]!);
  const swap = (a: number, b: number): void => {
    [times[a], times[b]] = [times[b]!, times[a]!];
    [seqs[a], seqs[b]] = [seqs[b]!, seqs[a]!];
    [acts[a], acts[b]] = [acts[b]!, acts[a]!];
  };
  const at = (t: number, f: () => void): void => {
    times.push(t);
    seqs.push(seq++);
    acts.push(f);
    for (let i = times.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!less(i, p)) break;
      swap(i, p);
      i = p;
    }
  };
  const next = (): (() => void) => {
    now = times[0]!;
    const f = acts[0]!;
    const n = times.length - 1;
    swap(0, n);
    times.pop();
    seqs.pop();
    acts.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      let m = i;
      if (l < n && less(l, m)) m = l;
      if (l + 1 < n && less(l + 1, m)) m = l + 1;
      if (m === i) break;
      swap(i, m);
      i = m;
    }
    return f;
  };
  const rng = new Prng(798);
  let issued = 0;
  let done = 0;
  let latency = 0;
  let t0 = 0;
  const warm = Math.floor(REQUESTS / 5);
  const channelOf = (c: number): number => Math.floor(c / CHIPS_PER_CHANNEL);
  const command = (c: number): void => {
    const ch = channelOf(c);
    current[c] = queue[c]!.shift()!;
    chip[c] = 'busy';
    busy[ch] = 1;
    at(now + T_CMD, () => {
      at(now + T_R, () => sensed(c));
      channelFree(ch);
    });
  };
  const channelIdle = (ch: number): void => {
    for (let i = 0; i < CHIPS_PER_CHANNEL && !busy[ch]; i++) {
      const c = ch * CHIPS_PER_CHANNEL + rr[ch]!;
      if (chip[c] === 'idle' && queue[c]!.length > 0) command(c);
      rr[ch] = (rr[ch]! + 1) % CHIPS_PER_CHANNEL;
    }
  };
  const transfer = (c: number): void => {
    busy[channelOf(c)] = 1;
    at(now + T_XFER, () => {
      chip[c] = 'idle';
      const start = current[c]!;
      at(now + T_HOST, () => complete(start));
      channelFree(channelOf(c));
    });
  };
  const channelFree = (ch: number): void => {
    busy[ch] = 0;
    if (dataFirst && waiting[ch]!.length > 0) return transfer(waiting[ch]!.shift()!);
    channelIdle(ch);
    if (!busy[ch] && waiting[ch]!.length > 0) transfer(waiting[ch]!.shift()!);
  };
  const sensed = (c: number): void => {
    if (busy[channelOf(c)]) waiting[channelOf(c)]!.push(c);
    else transfer(c);
  };
  const arrive = (): void => {
    if (issued >= REQUESTS) return;
    issued++;
    const c = rng.below(chips);
    queue[c]!.push(now);
    if (!busy[channelOf(c)]) channelIdle(channelOf(c));
  };
  const complete = (start: number): void => {
    done++;
    if (done > warm) latency += now - start;
    if (done === warm) t0 = now;
    at(now + T_HOST, arrive);
  };
  for (let i = 0; i < qd; i++) at(0, arrive);
  while (times.length > 0) next()();
  const measured = done - warm;
  return { iops: measured / ((now - t0) / 1e9), meanUs: latency / measured / 1000 };
}

const peer = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'bench/peers/mqsim.json'), 'utf8')) as { results: Record<string, { ideal: { iops: number } }> }).results;
const k = (n: number): string => `${(n / 1e3).toFixed(1)} k`;
const t = table(['4 KiB random read', 'MQSim ideal', 'its rules, data first', 'ratio', 'commands first', 'ratio'], ['left', 'right', 'right', 'right', 'right', 'right']);
for (const qd of [1, 8, 32, 128]) {
  const want = peer[`randread-4k-qd${qd}`]!.ideal.iops;
  const a = run(qd, true);
  const b = run(qd, false);
  t.push([`QD ${qd}`, k(want), k(a.iops), (a.iops / want).toFixed(2), k(b.iops), (b.iops / want).toFixed(2)]);
}
console.log("MQSim's back-end rules as a discrete-event model (no host, no mapping): waiting pages leave before an idle chip is commanded");
console.log(t.toString());
