/** The tiny job of the distributed benchmark, as a worker class hosts load (--module this file). */
import { Worker } from '../../src/index.js';

export class DistributedAdder extends Worker {
  addOne(x: number): number {
    return x + 1;
  }
}
