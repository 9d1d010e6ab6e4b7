/**
 * payload: a Float64Array of 1 KB, 1 MB, 16 MB and 64 MB to a worker and back, one call at a time,
 * one worker — concurry's thread worker by copy (structured clone) and by `move()`, its process
 * worker (a move is a copy there), vs piscina's clone and `Piscina.move()`, and raw worker_threads
 * postMessage as the copy floor. The worker writes one element and returns the buffer. Targets:
 * move ≤ 1.2× piscina move() at every size and ≤ 2 ms for 16 MB; copy ≤ piscina clone at every
 * size. Copies and the process worker are each measured in a fresh process of their own, moves
 * with each pool alone in 3 fresh processes (see measureGroup and MOVE_PROCESSES).
 */
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { Worker as NodeWorker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { move } from '../src/index.js';
import { Payload } from './workers/payload.js';
import { machineInfo, median, printMachine, runInChild, target, type SuiteOptions } from './lib/harness.js';

const piscinaWorker = fileURLToPath(new URL('./workers/payload-piscina.mjs', import.meta.url));
const rawWorker = fileURLToPath(new URL('./workers/raw-payload.mjs', import.meta.url));

/**
 * The environment of the second copy run (informational): glibc's malloc with one arena. With its
 * defaults each thread allocates from an arena of its own that hands big blocks back to the OS
 * and faults them in again, so a 1 MB structured clone round trip costs 0.6 ms or 3–9 ms depending
 * on the arenas' history (raw worker_threads too), in phases that last hundreds of trips. One arena
 * takes that away, which shows how much of a copy is the allocator's. The target is judged with
 * the defaults, which users run with.
 */
const ONE_ARENA = { MALLOC_ARENA_MAX: '1' };
const ONE_ARENA_LABEL = ' · one arena';

/** Sizes in bytes, with calls per sample: enough that a sample takes ~0.1 s or more. */
const SIZES = [
  { label: '1 KB', bytes: 1 << 10, ops: 1000 },
  { label: '1 MB', bytes: 1 << 20, ops: 100 },
  { label: '16 MB', bytes: 16 << 20, ops: 20 },
  { label: '64 MB', bytes: 64 << 20, ops: 5 },
];

/** One contender's round trip; it keeps its own buffer and replaces it with what each trip returns. */
interface Tripper {
  name: string;
  trip(): Promise<void>;
}

function roundTrips(name: string, bytes: number, trip: (data: Float64Array) => Promise<Float64Array>): Tripper {
  let data: Float64Array = new Float64Array(bytes / 8);
  return {
    name,
    async trip() {
      data = await trip(data);
      if (data.length !== bytes / 8 || data[0] !== data.length) throw new Error(`${name}: the buffer came back wrong`);
    },
  };
}

/**
 * Per contender: ms per round trip, the mean over every trip and the median trip; and how many
 * major collections the caller's heap ran while the trips were timed (see {@link majorCollections}).
 */
interface TripTimes {
  mean: Record<string, number>;
  median: Record<string, number>;
  majorGcs: number;
}

/**
 * Start times of the caller's major (mark-compact) collections. A moved 64 MB buffer that arrives
 * counts as 64 MB of outside memory, which is V8's limit above what the last mark-compact left: a
 * process whose collection ran while its buffer was at the worker collects again on almost every
 * trip (a mark-compact every few ms), one that ran with the buffer home seldom does. The count
 * says which of the two a run of a size was in (docs/decisions/payload-gc-regimes.md).
 */
const majorStarts: number[] = [];
function observeMajorCollections(): () => void {
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) majorStarts.push(entry.startTime);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/** Major collections that started between `from` and `to` (performance.now() times), once their entries are in. */
async function majorCollections(from: number, to: number): Promise<number> {
  // GC entries reach the observer in a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 20));
  return majorStarts.filter((t) => t >= from && t <= to).length;
}

/**
 * Before any size is timed, every contender of a process makes this many 1 KB round trips, so the
 * sizes measure each pool's steady state, as the latency suite does after its 5000 warm-up calls:
 * V8 has compiled the call paths by then, and concurry's workers poll for messages only after
 * their first 5000 (docs/decisions/polling-warmup.md). A quick run warms up as long: it times
 * fewer trips, not a different phase.
 */
const WARMUP = { bytes: 1 << 10, trips: 6000 };

async function warmUp(trippers: Tripper[], trips: number): Promise<void> {
  for (let i = 0; i < trips; i++) for (const t of trippers) await t.trip();
}

/**
 * Median and mean ms per round trip, each trip timed on its own with the contenders taking turns
 * (the order flipping every round). The targets are judged on the median trip; the mean (total
 * time ÷ trips) is printed beside it; a 1 KB copy's mean carries the odd collection pause of
 * either side. Neither is steady for a 64 MB move: a process runs those trips in one of two
 * garbage-collection regimes, which the major-collection count tells apart
 * (docs/decisions/payload-gc-regimes.md). On this VM a 1 MB round trip runs at ~0.7 ms or at ~4–9 ms in phases that
 * last a hundred trips or more — for raw worker_threads' postMessage too (memory, not the pool) —
 * so contenders measured one block after the other landed in different phases: concurry's copy
 * measured 2.4–5.2 ms against piscina's 1.5–2.0 ms in runs where both took ~0.7 ms side by side.
 */
async function interleaved(trippers: Tripper[], rounds: number, warmup: number): Promise<TripTimes> {
  await warmUp(trippers, warmup);
  const times = trippers.map((): number[] => []);
  const started = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < trippers.length; k++) {
      const i = r % 2 === 0 ? k : trippers.length - 1 - k;
      const t0 = performance.now();
      await trippers[i]!.trip();
      times[i]!.push(performance.now() - t0);
    }
  }
  const majorGcs = await majorCollections(started, performance.now());
  return {
    mean: Object.fromEntries(trippers.map((t, i) => [t.name, times[i]!.reduce((a, b) => a + b, 0) / times[i]!.length])),
    median: Object.fromEntries(trippers.map((t, i) => [t.name, median(times[i]!)])),
    majorGcs,
  };
}

type Group = 'move' | 'copy' | 'process';
/** The move group measures one pool per process (see {@link MOVE_PROCESSES}). */
type MovingPool = 'concurry' | 'piscina';
const MOVERS: Record<MovingPool, string> = { concurry: 'concurry thread move()', piscina: 'piscina move()' };
/**
 * Fresh processes per pool for the move group; each size's median process counts. Each pool is
 * alone in its processes: a moved 64 MB buffer puts the caller's heap into one of two
 * garbage-collection regimes, and two pools taking turns share one heap, so its regime was decided
 * by both and its collection work landed on whichever trip was waiting — which measured where V8
 * ran its collector rather than either pool (docs/decisions/payload-gc-regimes.md).
 */
const MOVE_PROCESSES = 3;
type Size = (typeof SIZES)[number];

/**
 * Measures one group of contenders at every size, in this process, each with its own worker; for
 * the move group only the pool named by `alone`. Moves and copies run in separate processes: the
 * hundreds of MB a copy leaves behind would otherwise land as garbage-collection pauses on the
 * moves measured next to it.
 */
async function measureGroup(group: Group, sizes: Size[], reps: number, label = '', alone?: MovingPool): Promise<TripTimes[]> {
  const out: TripTimes[] = [];
  const stopObserving = observeMajorCollections();
  const stops: (() => Promise<unknown>)[] = [];
  const concurry = async () => {
    const w = Payload.options({ mode: group === 'process' ? 'process' : 'thread' }).init();
    stops.push(() => w.stop());
    await w.ready();
    return w;
  };
  const piscina = () => {
    const p = new Piscina({ filename: piscinaWorker, minThreads: 1, maxThreads: 1 });
    stops.push(() => p.destroy());
    return p;
  };
  const raw = () => {
    const w = new NodeWorker(rawWorker);
    stops.push(() => w.terminate());
    return (d: Float64Array) =>
      new Promise<Float64Array>((resolve) => {
        w.once('message', resolve);
        w.postMessage(d);
      });
  };
  try {
    const ours = alone === 'piscina' ? undefined : await concurry();
    const theirs = group === 'process' || alone === 'concurry' ? undefined : piscina();
    const rawTrip = group === 'copy' ? raw() : undefined;
    if (group === 'move' && !alone) throw new Error('the move group measures one pool per process: name it in `alone`');
    const contendersFor = (bytes: number): Tripper[] =>
      group === 'move'
        ? alone === 'concurry'
          ? [roundTrips(MOVERS.concurry, bytes, (d) => ours!.echoMoved(move(d)).result())]
          : [roundTrips(MOVERS.piscina, bytes, (d) => theirs!.run(Piscina.move(d), { name: 'echoMoved' }))]
        : group === 'copy'
          ? [
              roundTrips(`concurry thread copy${label}`, bytes, (d) => ours!.echo(d).result()),
              roundTrips(`piscina clone${label}`, bytes, (d) => theirs!.run(d, { name: 'echo' })),
              roundTrips(`raw worker_threads copy${label}`, bytes, rawTrip!),
            ]
          : [roundTrips('concurry process (copy)', bytes, (d) => ours!.echo(d).result())];
    await warmUp(contendersFor(WARMUP.bytes), WARMUP.trips);
    for (const size of sizes) {
      // A move costs ~0.1 ms at any size: 10× the calls of a copy, so a sample outlasts one GC pause.
      const ops = group === 'move' ? Math.max(size.ops * 10, 50) : size.ops;
      out.push(await interleaved(contendersFor(size.bytes), ops * reps, Math.max(1, ops / 5)));
    }
  } finally {
    await Promise.all(stops.map((stop) => stop()));
    stopObserving();
  }
  return out;
}

export async function run({ quick = false }: SuiteOptions = {}) {
  const reps = quick ? 2 : 5;
  const sizes = quick ? SIZES.slice(0, 3).map((s) => ({ ...s, ops: Math.max(2, s.ops / 10) })) : SIZES;
  const moveRuns: Record<MovingPool, TripTimes[][]> = { concurry: [], piscina: [] };
  for (let p = 0; p < (quick ? 1 : MOVE_PROCESSES); p++) {
    for (const alone of ['concurry', 'piscina'] as const) {
      moveRuns[alone].push(runInChild<TripTimes[]>(import.meta.url, 'PAYLOAD_CHILD', { group: 'move', sizes, reps, alone }));
    }
  }
  const groups = [
    ...(['copy', 'process'] as Group[]).map((group) => runInChild<TripTimes[]>(import.meta.url, 'PAYLOAD_CHILD', { group, sizes, reps })),
    runInChild<TripTimes[]>(import.meta.url, 'PAYLOAD_CHILD', { group: 'copy', sizes, reps, label: ONE_ARENA_LABEL }, ONE_ARENA),
  ];
  /** One pool's move trips at size `i`: each process's, and the median process's. */
  const movesAt = (alone: MovingPool, i: number) => {
    const runs = moveRuns[alone].map((run) => run[i]!);
    const name = MOVERS[alone];
    return {
      median: median(runs.map((r) => r.median[name]!)),
      mean: median(runs.map((r) => r.mean[name]!)),
      perProcess: runs.map((r) => r.median[name]!),
      majorGcs: runs.map((r) => r.majorGcs),
    };
  };
  const rows = sizes.map((size, i) => {
    const moves = { concurry: movesAt('concurry', i), piscina: movesAt('piscina', i) };
    return {
      size: size.label,
      bytes: size.bytes,
      /** Median ms per round trip (a move: the median process's): what the targets are judged on (see interleaved). */
      msPerCall: Object.assign({ [MOVERS.concurry]: moves.concurry.median, [MOVERS.piscina]: moves.piscina.median }, ...groups.map((g) => g[i]!.median)) as Record<string, number>,
      meanMsPerCall: Object.assign({ [MOVERS.concurry]: moves.concurry.mean, [MOVERS.piscina]: moves.piscina.mean }, ...groups.map((g) => g[i]!.mean)) as Record<string, number>,
      /** Each move process's median trip, per pool. */
      movePerProcess: { concurry: moves.concurry.perProcess, piscina: moves.piscina.perProcess },
      /** Major collections of the caller's heap while this size's trips were timed: per move process, and per copy group. */
      majorGcs: { moveConcurry: moves.concurry.majorGcs, movePiscina: moves.piscina.majorGcs, copy: groups[0]![i]!.majorGcs, process: groups[1]![i]!.majorGcs },
    };
  });

  printMachine();
  const names = Object.keys(rows[0]!.msPerCall);
  const table = (title: string, pick: (row: (typeof rows)[number]) => Record<string, number>) => {
    console.log(`\npayload: Float64Array to one worker and back, one call at a time, ms per round trip (${title}; copies: contenders take turns; moves: each pool alone, median of its processes)`);
    console.log('contender'.padEnd(42) + rows.map((r) => r.size.padStart(11)).join(''));
    for (const n of names) console.log(n.padEnd(42) + rows.map((r) => pick(r)[n]!.toFixed(3).padStart(11)).join(''));
  };
  table('median trip, the targets', (r) => r.msPerCall);
  table('mean of every trip, informational', (r) => r.meanMsPerCall);
  const perProcess = (values: number[], digits: number) => values.map((v) => v.toFixed(digits)).join(' ');
  console.log(`\nmoves: each process's median trip, ms`);
  for (const alone of ['concurry', 'piscina'] as const) {
    console.log(MOVERS[alone].padEnd(42) + rows.map((r) => perProcess(r.movePerProcess[alone], 3).padStart(20)).join(''));
  }
  console.log(`\nmajor collections of the caller's heap while the trips were timed (dozens at 64 MB: V8's collecting regime, docs/decisions/payload-gc-regimes.md)`);
  console.log(`${MOVERS.concurry}, each process`.padEnd(42) + rows.map((r) => perProcess(r.majorGcs.moveConcurry, 0).padStart(20)).join(''));
  console.log(`${MOVERS.piscina}, each process`.padEnd(42) + rows.map((r) => perProcess(r.majorGcs.movePiscina, 0).padStart(20)).join(''));
  for (const group of ['copy', 'process'] as const) {
    console.log(`${group} group`.padEnd(42) + rows.map((r) => String(r.majorGcs[group]).padStart(20)).join(''));
  }

  const ratio = (row: (typeof rows)[number], a: string, b: string) => row.msPerCall[a]! / row.msPerCall[b]!;
  const list = (f: (row: (typeof rows)[number]) => number) => rows.map((r) => `${r.size} ${f(r).toFixed(2)}×`).join(', ');
  const at16 = rows.find((r) => r.size === '16 MB');
  const targets = [
    target('move ≤ 1.2× piscina move() at every size', rows.every((r) => ratio(r, 'concurry thread move()', 'piscina move()') <= 1.2), list((r) => ratio(r, 'concurry thread move()', 'piscina move()'))),
    target(
      'copy ≤ piscina clone at every size',
      rows.every((r) => ratio(r, 'concurry thread copy', 'piscina clone') <= 1),
      `${list((r) => ratio(r, 'concurry thread copy', 'piscina clone'))}; with one malloc arena ${list((r) => ratio(r, `concurry thread copy${ONE_ARENA_LABEL}`, `piscina clone${ONE_ARENA_LABEL}`))} (raw worker_threads ÷ piscina: ${list((r) => ratio(r, 'raw worker_threads copy', 'piscina clone'))})`,
    ),
    ...(at16 ? [target('move ≤ 2 ms for 16 MB', at16.msPerCall['concurry thread move()']! <= 2, `${at16.msPerCall['concurry thread move()']!.toFixed(3)} ms`)] : []),
  ];
  const biggest = rows.at(-1)!;
  return {
    suite: 'payload',
    machine: machineInfo(),
    reps,
    rows,
    targets,
    chart: {
      title: `payload — ${biggest.size} to a worker and back, ms per call; lower is better`,
      unit: 'ms',
      bars: names.map((n) => ({ label: n, value: biggest.msPerCall[n]! })),
    },
  };
}

if (process.env.PAYLOAD_CHILD) {
  const { group, sizes, reps, label, alone } = JSON.parse(process.env.PAYLOAD_CHILD) as { group: Group; sizes: Size[]; reps: number; label?: string; alone?: MovingPool };
  console.log(JSON.stringify(await measureGroup(group, sizes, reps, label, alone)));
  process.exit(0);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ quick: process.argv.includes('--quick') });
}
