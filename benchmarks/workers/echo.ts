import { Worker } from '../../src/index.js';

/** The cheapest possible actor method, to measure what the call path itself costs. */
export class Echo extends Worker {
  async echo(x: number): Promise<number> {
    return x;
  }
}
