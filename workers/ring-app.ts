/** An application thread of an SQPOLL ring (tests and benchmarks): src/harness/ring-app.ts. */
import { parentPort, workerData } from 'node:worker_threads';
import { runRingApp, type RingAppJob } from '../src/harness/ring-app.js';

parentPort!.postMessage(runRingApp(workerData as RingAppJob));
