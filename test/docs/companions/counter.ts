// Stands for the Counter worker class of getting-started.md, imported as './counter.js'.
import { Worker } from 'concurry';

export class Counter extends Worker {
  static module = import.meta.url;
  private n = 0;
  add(by: number): number {
    return (this.n += by);
  }
}
