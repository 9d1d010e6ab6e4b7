/**
 * Free variables of a function's source text, found with a real parser: acorn parses, eslint-scope
 * resolves every reference against the scopes of ECMAScript (block scopes, several declarators,
 * destructuring with defaults, class fields, labels, catch bindings, named function expressions…),
 * and `globalScope.through` is exactly the references nothing in the text declares.
 *
 * Why acorn + eslint-scope (see docs/decisions/function-source-parser.md): both are maintained
 * (acorn by its author since 2012, eslint-scope by the ESLint team, which runs on it), the scope
 * analysis is exact and ESTree-based, both are small pure JavaScript with no native code, and they
 * load only when a function is first sent by source — thread and process workers never load them.
 */
import { createRequire } from 'node:module';
import type * as Acorn from 'acorn';
import type * as EslintScope from 'eslint-scope';

/** How a function's source text stands on its own: as an expression, or as an object-literal member. */
export type FunctionForm = 'expression' | 'member';

/** What the analysis of one source text found. */
export interface SourceAnalysis {
  form: FunctionForm;
  /** Free variables, in order of first use (globals included: the caller filters them). */
  free: string[];
}

/** A source text that does not parse on its own, with the parser's message. */
export class UnparsableSourceError extends Error {}

let parser: { acorn: typeof Acorn; scope: typeof EslintScope } | undefined;

/** Loaded on first use: only a process that sends a function by source pays the load, once (docs/decisions/function-source-parser.md). */
function load(): NonNullable<typeof parser> {
  if (!parser) {
    const require = createRequire(import.meta.url);
    parser = { acorn: require('acorn') as typeof Acorn, scope: require('eslint-scope') as typeof EslintScope };
  }
  return parser;
}

// eslint-scope needs `range` on every node.
const ACORN_OPTIONS: Acorn.Options = { ecmaVersion: 'latest', sourceType: 'script', ranges: true };

/**
 * A function's text is an expression (`function …`, `async (…) => …`, `class …`) or an object
 * member (`name() {…}`, `async *name() {…}`, `get name() {…}` — what `toString()` gives for
 * methods and accessors). Each is parsed in the smallest program that makes it valid.
 */
function parseFunction(source: string): { program: Acorn.Program; form: FunctionForm } {
  const { acorn } = load();
  let firstError: unknown;
  for (const [form, text] of [
    ['expression', `(${source}\n)`],
    ['member', `({ ${source}\n})`],
  ] as const) {
    try {
      const program = acorn.parse(text, ACORN_OPTIONS);
      // The wrapped text must be one expression: a single statement holding the whole function.
      if (program.body.length === 1 && program.body[0].type === 'ExpressionStatement') return { program, form };
    } catch (error) {
      firstError ??= error;
    }
  }
  throw new UnparsableSourceError((firstError as Error)?.message ?? 'not a single function');
}

const analyses = new Map<string, SourceAnalysis>();
const MAX_CACHED = 2000;
let parses = 0;

/**
 * Parses `source` (a function's text) and lists the names it reads without declaring them.
 * Cached per source text: submitting the same function again costs a map lookup.
 * Throws {@link UnparsableSourceError} when the text is not a function that stands on its own.
 */
export function analyzeFunctionSource(source: string): SourceAnalysis {
  const hit = analyses.get(source);
  if (hit) return hit;
  const { scope } = load();
  const { program, form } = parseFunction(source);
  parses++;
  const manager = scope.analyze(program as unknown as Parameters<typeof scope.analyze>[0], { ecmaVersion: 2022, sourceType: 'script' });
  const free: string[] = [];
  for (const ref of manager.globalScope.through) {
    const name = ref.identifier.name;
    if (!free.includes(name)) free.push(name);
  }
  const analysis: SourceAnalysis = { form, free };
  // Bounded: the oldest entry goes first (Map keeps insertion order).
  if (analyses.size >= MAX_CACHED) analyses.delete(analyses.keys().next().value!);
  analyses.set(source, analysis);
  return analysis;
}

/** @internal How many source texts were parsed so far (tests check the cache with it). */
export function parseCount(): number {
  return parses;
}
