/**
 * The layering of src/ (docs/architecture.md, "Layers"), checked by `npm run lint:deps`.
 *
 * Layers, lowest first. A module may import from its own layer and from layers before it, never
 * from a later one: the next upward import fails the check instead of slowly tangling the folders.
 * Type-only imports count too (tsPreCompilationDeps): a type is a dependency on its module's design.
 */
const LAYERS = [
  {
    name: 'leaves',
    why: 'errors, clock, error classification, utilities, serialization and observability depend on nothing of ours',
    paths: ['^src/(errors|clock|classify)[.]ts$', '^src/(util|serialize|observability)/'],
  },
  { name: 'config', why: 'the core options and the checks every feature uses', paths: ['^src/config/'] },
  { name: 'retry-limits', why: 'the retry engine and the limits engine', paths: ['^src/(retry|limits)/'] },
  { name: 'runtime', why: 'the worker-side runtime: methods, context, retry and limits per call', paths: ['^src/runtime/'] },
  { name: 'transport', why: 'the transport contract (incl. CallNotStartedError, which pool and IPC share)', paths: ['^src/modes/(transport|not-started)[.]ts$'] },
  { name: 'resilience', why: 'CallGuard and what it uses: it wraps a transport', paths: ['^src/resilience/'] },
  {
    name: 'modes',
    why: 'the transports: pool, local, thread, process, IPC, distributed',
    paths: ['^src/pool/', '^src/modes/(local|thread|process)[.]ts$', '^src/modes/(ipc|distributed)/'],
  },
  {
    name: 'api',
    why: 'futures, workers (handles, the option table, the mode → transport table) and tasks: what users call',
    paths: ['^src/(future|worker|task)/', '^src/modes/registry[.]ts$'],
  },
  { name: 'entries', why: 'the package entry points', paths: ['^src/(index|distributed)[.]ts$'] },
];

const later = (index) => LAYERS.slice(index + 1).flatMap((layer) => layer.paths);

const layerRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer.name}`,
  comment: `${layer.why}; may import only from ${LAYERS.slice(0, index + 1).map((l) => l.name).join(', ')}`,
  severity: 'error',
  from: { path: layer.paths },
  to: { path: later(index) },
}));

/** Folders in one layer that must stay independent of each other (either may change alone). */
const PEERS = [
  ['^src/retry/', '^src/limits/'],
  ['^src/pool/', '^src/modes/(local|thread|process)[.]ts$|^src/modes/(ipc|distributed)/'],
];

const peerRules = PEERS.flatMap(([a, b]) => [
  [a, b],
  [b, a],
]).map(([from, to]) => ({
  name: 'independent-peers',
  comment: 'these folders share a layer and must not depend on each other',
  severity: 'error',
  from: { path: from },
  to: { path: to },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    ...peerRules,
    {
      name: 'no-layer',
      comment: 'every module of src/ belongs to a layer: add new folders to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.flatMap((layer) => layer.paths) },
      to: {},
    },
    {
      name: 'no-circular-folders',
      comment: 'two folders that import each other are one concept split in two, or a missing lower layer',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'a module nothing imports is dead code (entry points excepted)',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: '^src/(index|distributed)[.]ts$' },
      to: {},
    },
  ],
  options: {
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
