import { Worker, move } from '../../src/index.js';

/** The payload suite's worker: reads the buffer it is given and hands it back. */
export class Payload extends Worker {
  static module = import.meta.url;
  /** Back by copy (structured clone, or the process channel's serializer). */
  echo(data: Float64Array): Float64Array {
    data[0] = data.length;
    return data;
  }
  /** Back by move. */
  echoMoved(data: Float64Array): Float64Array {
    data[0] = data.length;
    return move(data);
  }
}
