/** A stateful worker in each in-process and out-of-process mode: same class, same calls. */
import { Worker, gather, type Mode, isMainModule } from '../src/index.js';

export class Accumulator extends Worker {
  static module = import.meta.url;
  private readonly seen: string[] = [];

  constructor(private readonly label: string) {
    super();
  }

  add(item: string): number {
    this.seen.push(item);
    return this.seen.length;
  }

  async summary(): Promise<string> {
    return `${this.label}: ${this.seen.join(', ')} (pid ${process.pid})`;
  }
}

if (isMainModule(import.meta.url)) {
  for (const mode of ['sync', 'async', 'thread', 'process'] as Mode[]) {
    await using acc = Accumulator.options({ mode }).init(mode);
    await gather(['a', 'b', 'c'].map((x) => acc.add(x)));
    console.log(await acc.summary());
  }
}
