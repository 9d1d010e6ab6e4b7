import { Worker } from '../../src/index.js';
import { crunch } from './cpu-kernel.mjs';

/** cpu-work's concurry worker: the same kernel piscina runs (cpu-kernel.mjs). */
export class Cruncher extends Worker {
  static module = import.meta.url;
  crunch(iterations: number): number {
    return crunch(iterations);
  }
}
