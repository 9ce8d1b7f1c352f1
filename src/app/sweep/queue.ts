/**
 * The Redis side of distributed sweeps: the BullMQ queue of GC points (`copylab:gc:*` keys) and
 * the sweep records beside it (`copylab:sweeps:<id>`). Loaded only by commands given --queue.
 */
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { QueueTarget } from './queue-url.js';
import { firstLine } from './point.js';

/** Key prefix of everything copylab keeps in Redis. */
export const KEY_PREFIX = 'copylab';
/** The queue of GC grid points. */
export const GC_QUEUE = 'gc';
/** How long a command waits for Redis to answer before it gives up (connect and first reply). */
export const CONNECT_TIMEOUT_MS = 5000;

export class QueueUnreachableError extends Error {}

/** ioredis options for a target: no offline queue, a bounded connect timeout. */
export function redisOptions(t: QueueTarget, extra: { retry: boolean }) {
  return {
    ...t.connection,
    ...(t.connection.tls ? { tls: { ...t.connection.tls } } : {}),
    connectTimeout: CONNECT_TIMEOUT_MS,
    // A socket that never opened emits no close to end ioredis' wait for it (2 s by default, keeping the process alive).
    disconnectTimeout: 100,
    lazyConnect: true,
    ...(extra.retry ? {} : { retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false }),
  };
}

/** A connected client, or a QueueUnreachableError naming the target (without its password). */
export async function connect(t: QueueTarget): Promise<Redis> {
  const r = new Redis(redisOptions(t, { retry: false }));
  // The socket's error says more than the closed connection it leads to (ECONNREFUSED, a TLS or DNS failure).
  let cause: unknown;
  r.on('error', (err) => (cause ??= err));
  try {
    await withTimeout(r.connect(), CONNECT_TIMEOUT_MS);
    await withTimeout(r.ping(), CONNECT_TIMEOUT_MS);
  } catch (err) {
    r.disconnect();
    throw new QueueUnreachableError(`cannot use the queue at ${t.display}: ${firstLine(cause ?? err)}`);
  }
  return r;
}

/** The GC points queue on a target. */
export function gcQueue(t: QueueTarget): Queue {
  const q = new Queue(GC_QUEUE, { connection: { ...redisOptions(t, { retry: true }), lazyConnect: false }, prefix: KEY_PREFIX });
  q.on('error', () => {});
  return q;
}

/**
 * The events of the GC points queue (a connection of its own, blocked on Redis' event stream):
 * a waiting sweep hears of each finished job at once instead of at its next poll.
 */
export function gcQueueEvents(t: QueueTarget): QueueEvents {
  const e = new QueueEvents(GC_QUEUE, { connection: { ...redisOptions(t, { retry: true }), lazyConnect: false }, prefix: KEY_PREFIX });
  e.on('error', () => {});
  return e;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
