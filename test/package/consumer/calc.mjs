// A worker class in plain ES module JavaScript, as a user writes it.
import { Worker } from 'concurry';

export class QuotaError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'QuotaError';
    this.code = code;
  }
}

export class Calc extends Worker {
  static module = import.meta.url;
  total = 0;
  add(n) {
    this.total += n;
    return this.total;
  }
  fail() {
    throw new QuotaError('over quota', 'E_QUOTA');
  }
}
