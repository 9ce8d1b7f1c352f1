/** A piscina task on the lab's pool: one chunk of a large read compared with its pattern. */
import { verifyChunk, type VerifyTask } from '../src/app/scenario/verify-chunk.js';

export default function verifyTask(t: VerifyTask): number {
  return verifyChunk(t);
}
