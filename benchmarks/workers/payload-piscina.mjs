// piscina's side of the payload suite: read the buffer and hand it back, cloned or moved.
import { move } from 'piscina';

export function echo(data) {
  data[0] = data.length;
  return data;
}

export function echoMoved(data) {
  data[0] = data.length;
  return move(data);
}
