import { Worker } from '../../src/index.js';

export class Adder extends Worker {
  static module = import.meta.url;
  addOne(x: number): number {
    return x + 1;
  }
}
