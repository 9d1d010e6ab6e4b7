// The same worker class in TypeScript (run by tsx, or compiled by tsc with module NodeNext).
import { Worker } from 'concurry';

export class QuotaError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'QuotaError';
  }
}

export class Calc extends Worker {
  static module = import.meta.url;
  private total = 0;
  add(n: number): number {
    this.total += n;
    return this.total;
  }
  fail(): never {
    throw new QuotaError('over quota', 'E_QUOTA');
  }
}
