import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskWorker, move, type Mode } from '../../src/index.js';
import { Buffers } from './buffer-workers.js';

const handles: { stop(o?: { timeout?: number }): Promise<void> }[] = [];
const track = <T extends { stop(o?: { timeout?: number }): Promise<void> }>(h: T): T => (handles.push(h), h);
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop({ timeout: 1000 })));
});

const fixtures = new URL('./buffer-workers.ts', import.meta.url).href;
const ramp = (n: number) => Float64Array.from({ length: n }, (_, i) => i);
const rampSum = (n: number) => (n * (n - 1)) / 2;

describe('move()', () => {
  it('returns the value itself and refuses what cannot be moved', () => {
    const buf = new ArrayBuffer(8);
    expect(move(buf)).toBe(buf);
    expect(() => move(42 as never)).toThrow(new TypeError('move() takes an ArrayBuffer, a typed array, a DataView or a MessagePort (got number)'));
    expect(() => move(new SharedArrayBuffer(8) as never)).toThrow(/got shared memory, which thread workers share without moving/);
  });
});

describe('thread mode', () => {
  it('moves an argument: the worker gets all of it, the caller is left with a detached buffer', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const data = ramp(1 << 16);
    const future = w.sum(move(data));
    expect(data.byteLength).toBe(0); // detached as soon as the call is sent, as postMessage does
    expect(await future.result()).toEqual({ sum: rampSum(1 << 16), byteLength: 8 << 16 });
  });

  it('copies an argument that is not moved', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const data = ramp(1000);
    expect((await w.sum(data).result()).sum).toBe(rampSum(1000));
    expect(data.length).toBe(1000);
  });

  it('moves results back, also the buffer it was given (a round trip without a copy)', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    expect(Array.from(await w.make(5, true).result())).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(await w.make(3, false).result())).toEqual([0, 1, 2]);
    const data = ramp(4);
    const back = await w.double(move(data)).result();
    expect(data.byteLength).toBe(0);
    expect(Array.from(back)).toEqual([0, 2, 4, 6]);
  });

  it('moves buffers one level inside an argument, and keeps calls in order around moved ones', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const a = new Uint8Array(10);
    const b = new ArrayBuffer(20);
    const calls = [w.echo(1), w.lengths({ a: move(a), b: move(b) }), w.echo(2)];
    expect([a.byteLength, b.byteLength]).toEqual([0, 0]);
    expect(await Promise.all(calls.map((f) => f.result()))).toEqual([1, [10, 20], 2]);
  });

  it('moving the same buffer twice in one call fails that call and nothing is detached; the worker goes on', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const b = new ArrayBuffer(16);
    const error = await w.lengths({ a: move(new Uint8Array(b)), b: move(b) }).exception();
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('Argument 1 of Buffers.lengths cannot be moved: its buffer is moved twice in the same call');
    expect(b.byteLength).toBe(16);
    expect(await w.echo('still here').result()).toBe('still here');
  });

  it('moving a detached buffer fails that call with a clear error; the worker goes on', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const data = ramp(8);
    await w.sum(move(data)).result();
    const error = await w.sum(move(data)).exception();
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('Argument 1 of Buffers.sum cannot be moved: its ArrayBuffer is detached (moved already?)');
    expect((await w.sum(ramp(4)).result()).sum).toBe(6);
  });

  it('a result that moves one buffer twice fails that call; the worker goes on', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const error = await w.movesTwice().exception();
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('The result of Buffers.movesTwice cannot be moved: its buffer is moved twice in the same call');
    expect(await w.echo(3).result()).toBe(3);
  });

  it('copies small pooled Buffers marked to move (they share Node\'s pool, which is no double move)', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const a = Buffer.from('first');
    const b = Buffer.from('second');
    const back = (await w.echo([move(a), move(b)]).result()) as Uint8Array[];
    expect(back.map((x) => Buffer.from(x).toString())).toEqual(['first', 'second']);
    expect(a.toString()).toBe('first');
  });

  it('shares a SharedArrayBuffer: a write in the worker is seen by the caller', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const shared = new Int32Array(new SharedArrayBuffer(4));
    shared[0] = 1;
    expect(await w.writeShared(shared, 5).result()).toBe(1);
    expect(shared[0]).toBe(5);
  });

  it('moves a MessagePort', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const { port1, port2 } = new MessageChannel();
    const heard = new Promise((resolve) => port1.once('message', resolve));
    await w.greet(move(port2), 'hello over the moved port').result();
    expect(await heard).toBe('hello over the moved port');
    port1.close();
  });

  it('moves through a pool, and in TaskWorker submit and map (arguments and results)', async () => {
    const pool = track(Buffers.options({ mode: 'thread', maxWorkers: 2 }).init());
    const inputs = [ramp(100), ramp(200), ramp(300)];
    const sums = await Promise.all(inputs.map((d) => pool.sum(move(d)).result()));
    expect(sums.map((s) => s.sum)).toEqual([rampSum(100), rampSum(200), rampSum(300)]);
    expect(inputs.every((d) => d.byteLength === 0)).toBe(true);

    const tw = track(TaskWorker.options({ mode: 'thread' }).init());
    const sumTask = { module: fixtures, export: 'sumTask' };
    const one = ramp(1000);
    expect(await tw.submit(sumTask, move(one)).result()).toBe(rampSum(1000));
    expect(one.byteLength).toBe(0);
    const back = (await tw.submit({ module: fixtures, export: 'bytesBack' }, 5).result()) as Uint8Array;
    expect(Array.from(back)).toEqual([7, 7, 7, 7, 7]);
    function* moved() {
      for (let i = 1; i <= 50; i++) yield move(ramp(i));
    }
    const mapped = await tw.map(sumTask, moved());
    expect(mapped).toEqual(Array.from({ length: 50 }, (_, i) => rampSum(i + 1)));
  });
});

describe('thread mode: big buffers are copied by the sender and the copy moved', () => {
  const KB = 1024;
  const filled = (bytes: number, value: number) => new Uint8Array(bytes).fill(value);

  it('arguments arrive as structured clone would give them, and the caller keeps its own', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const floats = new Float64Array(filled(128 * KB, 1).buffer);
    const nodeBuffer = Buffer.alloc(100 * KB, 2);
    const dataView = new DataView(filled(200 * KB, 3).buffer, 8, 16);
    const shared = filled(128 * KB, 4).buffer;
    const [low, high] = [new Uint16Array(shared, 0, 10), new Uint16Array(shared, 64 * KB, 10)];
    const plain = filled(70 * KB, 5).buffer;
    const small = new Float64Array(filled(80, 6).buffer);
    const values = [floats, nodeBuffer, dataView, low, high, plain, small, floats];
    const shapes = await w.shapes(...values).result();
    expect(shapes).toEqual([
      { kind: 'Float64Array', byteOffset: 0, byteLength: 128 * KB, bufferBytes: 128 * KB, resizable: false, sharesWith: 0, first: 1 },
      { kind: 'Uint8Array', byteOffset: 0, byteLength: 100 * KB, bufferBytes: 100 * KB, resizable: false, sharesWith: 1, first: 2 },
      { kind: 'DataView', byteOffset: 8, byteLength: 16, bufferBytes: 200 * KB, resizable: false, sharesWith: 2, first: 3 },
      { kind: 'Uint16Array', byteOffset: 0, byteLength: 20, bufferBytes: 128 * KB, resizable: false, sharesWith: 3, first: 4 },
      { kind: 'Uint16Array', byteOffset: 64 * KB, byteLength: 20, bufferBytes: 128 * KB, resizable: false, sharesWith: 3, first: 4 },
      { kind: 'ArrayBuffer', byteOffset: 0, byteLength: 70 * KB, bufferBytes: 70 * KB, resizable: false, sharesWith: 5, first: 5 },
      { kind: 'Float64Array', byteOffset: 0, byteLength: 80, bufferBytes: 80, resizable: false, sharesWith: 6, first: 6 },
      { kind: 'Float64Array', byteOffset: 0, byteLength: 128 * KB, bufferBytes: 128 * KB, resizable: false, sharesWith: 0, first: 1 },
    ]);
    expect(values.map((v) => v.byteLength)).toEqual([128 * KB, 100 * KB, 16, 20, 20, 70 * KB, 80, 128 * KB]);
    expect(new Uint8Array(floats.buffer)[0]).toBe(1);
  });

  it('leaves a resizable buffer to structured clone, which keeps it resizable', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const resizable = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(70 * KB, { maxByteLength: 140 * KB });
    new Uint8Array(resizable).fill(7);
    const [shape] = await w.shapes(resizable).result();
    expect(shape).toMatchObject({ kind: 'ArrayBuffer', byteLength: 70 * KB, resizable: true, first: 7 });
    expect(resizable.byteLength).toBe(70 * KB);
  });

  it('a big result is copied: the worker keeps the buffer it returned, call after call', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const first = await w.keptBytes(100 * KB).result();
    const second = await w.keptBytes(100 * KB).result();
    expect([first.length, second.length, first[0], second[100 * KB - 1]]).toEqual([100 * KB, 100 * KB, 9, 9]);
    first[0] = 1; // the caller's copies are its own
    expect(second[0]).toBe(9);
    expect(await w.keptState().result()).toEqual({ length: 100 * KB, sum: 9 * 100 * KB });
  });

  it('moves what is marked and copies the rest in the same call', async () => {
    const w = track(Buffers.options({ mode: 'thread' }).init());
    const moved = filled(100 * KB, 1);
    const copied = filled(100 * KB, 2);
    const shapes = await w.shapes(move(moved), copied).result();
    expect(shapes.map((s) => [s.byteLength, s.first])).toEqual([
      [100 * KB, 1],
      [100 * KB, 2],
    ]);
    expect([moved.byteLength, copied.byteLength]).toEqual([0, 100 * KB]);
  });

  it('through a pool and TaskWorker map, calls in order', async () => {
    const pool = track(Buffers.options({ mode: 'thread', maxWorkers: 2 }).init());
    const inputs = Array.from({ length: 6 }, (_, i) => ramp(16 * KB + i));
    const sums = await Promise.all(inputs.map((data) => pool.sum(data).result()));
    expect(sums.map((s) => s.sum)).toEqual(inputs.map((d) => rampSum(d.length)));
    expect(inputs.every((d, i) => d.length === 16 * KB + i)).toBe(true);
    const tasks = track(TaskWorker.options({ mode: 'thread', maxWorkers: 2 }).init());
    const mapped = await tasks.map({ module: fixtures, export: 'sumTask' }, inputs);
    expect(mapped).toEqual(inputs.map((d) => rampSum(d.length)));
  });
});

describe.each(['process', 'async', 'sync'] as Mode[])('%s mode: a move is a copy (or a plain pass), never an error', (mode) => {
  it('sums, returns moved results, and carries typed arrays and Buffers intact', async () => {
    const w = track(Buffers.options({ mode }).init());
    const data = ramp(1000);
    expect((await w.sum(move(data)).result()).sum).toBe(rampSum(1000));
    if (mode === 'process') expect(data.length).toBe(1000); // copied, not detached
    const made = await w.make(4, true).result();
    expect(made).toBeInstanceOf(Float64Array);
    expect(Array.from(made)).toEqual([0, 1, 2, 3]);
    expect(await w.isBuffer(Buffer.from('abc')).result()).toBe(true);
    const echoed = await w.echo(move(Buffer.from('bytes'))).result();
    expect(Buffer.isBuffer(echoed) && echoed.toString()).toBe('bytes');
    expect(await w.echo(move(new Int16Array([1, -2]))).result()).toEqual(new Int16Array([1, -2]));
    const b = new ArrayBuffer(8);
    expect(await w.lengths({ a: move(new Uint8Array(b)), b: move(b) }).result()).toEqual([8, 8]); // no "moved twice" here
  });
});
