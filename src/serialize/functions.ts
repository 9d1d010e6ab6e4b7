/**
 * Functions that cross into another thread or process travel as source text and are rebuilt
 * there. A function that reads variables from its enclosing scope would silently break on the
 * other side, so we find its free variables before sending and refuse with the name and the fix.
 */

/** A function as source text. */
export interface SerializedFunction {
  source: string;
  name: string;
}

/** Names a function may use without capturing them: JS and Node globals. */
const GLOBALS = new Set([
  ...Object.getOwnPropertyNames(globalThis),
  '__name', 'undefined', 'NaN', 'Infinity', 'globalThis', 'arguments', 'this', 'super', 'new', 'import', 'require', 'module', 'exports',
  '__dirname', '__filename', 'process', 'Buffer', 'console', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout',
  'clearInterval', 'clearImmediate', 'queueMicrotask', 'structuredClone', 'fetch', 'URL', 'URLSearchParams', 'TextEncoder',
  'TextDecoder', 'AbortController', 'AbortSignal', 'performance', 'crypto',
]);

const KEYWORDS = new Set(
  ('break case catch class const continue debugger default delete do else export extends false finally for function if in ' +
    'instanceof let new null return static super switch this throw true try typeof var void while with yield async await of get set')
    .split(' '),
);

type Token = { type: 'id' | 'punct' | 'str' | 'num' | 'tmpl'; value: string };

/** A small tokenizer: enough to tell identifiers from strings, comments, regexes and property names. */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const prevSignificant = () => out[out.length - 1];
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      i = src.indexOf('*/', i + 2);
      i = i < 0 ? src.length : i + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out.push({ type: 'str', value: src.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      // Template: keep the literal parts out, tokenize ${...} parts as code.
      let j = i + 1;
      out.push({ type: 'tmpl', value: '`' });
      while (j < src.length && src[j] !== '`') {
        if (src[j] === '\\') {
          j += 2;
          continue;
        }
        if (src[j] === '$' && src[j + 1] === '{') {
          let depth = 1;
          let k = j + 2;
          while (k < src.length && depth > 0) {
            if (src[k] === '{') depth++;
            else if (src[k] === '}') depth--;
            k++;
          }
          out.push(...tokenize(src.slice(j + 2, k - 1)));
          j = k;
          continue;
        }
        j++;
      }
      i = j + 1;
      continue;
    }
    if (c === '/') {
      const prev = prevSignificant();
      const regexAllowed = !prev || (prev.type === 'punct' && !/[)\]}]/.test(prev.value)) || (prev.type === 'id' && KEYWORDS.has(prev.value));
      if (regexAllowed) {
        let j = i + 1;
        let inClass = false;
        while (j < src.length && (src[j] !== '/' || inClass)) {
          if (src[j] === '\\') j++;
          else if (src[j] === '[') inClass = true;
          else if (src[j] === ']') inClass = false;
          j++;
        }
        j++;
        while (/[a-z]/i.test(src[j] ?? '')) j++;
        out.push({ type: 'str', value: src.slice(i, j) });
        i = j;
        continue;
      }
    }
    if (/[A-Za-z_$\u00a0-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[\w$\u00a0-\uffff]/.test(src[j]!)) j++;
      out.push({ type: 'id', value: src.slice(i, j) });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < src.length && /[\w.]/.test(src[j]!)) j++;
      out.push({ type: 'num', value: src.slice(i, j) });
      i = j;
      continue;
    }
    if (src.startsWith('...', i) || src.startsWith('?.', i) || src.startsWith('=>', i)) {
      out.push({ type: 'punct', value: src.slice(i, i + (src[i] === '.' ? 3 : 2)) });
      i += src[i] === '.' ? 3 : 2;
      continue;
    }
    out.push({ type: 'punct', value: c });
    i++;
  }
  return out;
}

/**
 * Identifiers the function reads that it does not declare (params, var/let/const, functions,
 * classes, catch bindings) and that are not globals. Declarations are collected function-wide —
 * simpler than real scoping, and it only errs toward accepting.
 */
export function freeVariables(fn: Function | string): string[] {
  const tokens = tokenize(typeof fn === 'string' ? fn : fn.toString());
  const declared = new Set<string>();
  const used: string[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.type !== 'id') continue;
    const prev = tokens[k - 1];
    const next = tokens[k + 1];
    if (prev?.type === 'punct' && (prev.value === '.' || prev.value === '?.')) continue; // property access
    if (next?.type === 'punct' && next.value === ':' && prev?.type === 'punct' && (prev.value === '{' || prev.value === ',')) {
      // object literal key or destructuring rename; a destructuring key is not a use either
      continue;
    }
    if (KEYWORDS.has(t.value)) continue;
    if (prev?.type === 'id' && ['const', 'let', 'var', 'function', 'class', 'catch'].includes(prev.value)) {
      declared.add(t.value);
      continue;
    }
    used.push(t.value);
  }
  // Parameters and destructured names: identifiers inside binding positions. Find them as
  // identifiers followed by '=>' directly, within the first parenthesis group, or after const/let/var
  // patterns — approximated by collecting every identifier that appears before a '=' , ',' , ')'
  // or '}' inside a binding list.
  collectBindings(tokens, declared);
  const free = new Set<string>();
  for (const name of used) {
    if (declared.has(name) || GLOBALS.has(name)) continue;
    free.add(name);
  }
  return [...free];
}

function collectBindings(tokens: Token[], declared: Set<string>): void {
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    const isParamListStart =
      t.type === 'punct' &&
      t.value === '(' &&
      (k === 0 ||
        (tokens[k - 1]!.type === 'id' && (tokens[k - 1]!.value === 'function' || tokens[k - 1]!.value === 'async' || tokens[k - 2]?.value === 'function')) ||
        isArrowParams(tokens, k) ||
        isMethodParams(tokens, k) ||
        (tokens[k - 1]!.type === 'id' && tokens[k - 1]!.value === 'catch'));
    if (isParamListStart) {
      let depth = 0;
      let j = k;
      for (; j < tokens.length; j++) {
        const u = tokens[j]!;
        if (u.type === 'punct' && '([{'.includes(u.value)) depth++;
        else if (u.type === 'punct' && ')]}'.includes(u.value)) {
          depth--;
          if (depth === 0) break;
        } else if (u.type === 'id' && !KEYWORDS.has(u.value)) {
          const after = tokens[j + 1];
          const before = tokens[j - 1];
          const isDefaultValue = before?.type === 'punct' && before.value === '=';
          const isRenameKey = after?.type === 'punct' && after.value === ':';
          if (!isDefaultValue && !isRenameKey) declared.add(u.value);
        }
      }
      k = j;
    }
    // single-parameter arrow: x => ...
    if (t.type === 'id' && tokens[k + 1]?.value === '=>') declared.add(t.value);
    // destructuring declarations: const { a, b: c } = ... / const [x, y] = ...
    if (t.type === 'id' && ['const', 'let', 'var'].includes(t.value) && tokens[k + 1]?.type === 'punct' && '[{'.includes(tokens[k + 1]!.value)) {
      let depth = 0;
      for (let j = k + 1; j < tokens.length; j++) {
        const u = tokens[j]!;
        if (u.type === 'punct' && '([{'.includes(u.value)) depth++;
        else if (u.type === 'punct' && ')]}'.includes(u.value)) {
          depth--;
          if (depth === 0) break;
        } else if (u.type === 'id' && tokens[j + 1]?.value !== ':') declared.add(u.value);
      }
    }
  }
}

function matchingClose(tokens: Token[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    const u = tokens[j]!;
    if (u.type === 'punct' && '([{'.includes(u.value)) depth++;
    else if (u.type === 'punct' && ')]}'.includes(u.value)) {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}

function isArrowParams(tokens: Token[], open: number): boolean {
  const close = matchingClose(tokens, open);
  return close > 0 && tokens[close + 1]?.value === '=>';
}

function isMethodParams(tokens: Token[], open: number): boolean {
  const close = matchingClose(tokens, open);
  const prev = tokens[open - 1];
  return close > 0 && tokens[close + 1]?.value === '{' && prev?.type === 'id' && !KEYWORDS.has(prev.value) && open <= 3;
}

/**
 * Turns `fn` into source text for another thread/process. Throws a TypeError naming the first
 * variable it takes from its enclosing scope, and the fix.
 */
export function serializeFunction(fn: Function, what = 'the function'): SerializedFunction {
  if (typeof fn !== 'function') throw new TypeError(`${what} must be a function, got ${typeof fn}`);
  // Vite/vitest rewrite `import()` into a helper that only exists in their module runner.
  const source = fn.toString().replace(/__vite_ssr_dynamic_import__\(/g, 'import(');
  if (/\[native code\]/.test(source)) {
    throw new TypeError(`${what} (${fn.name || 'anonymous'}) is a native or bound function and cannot be sent by source; pass a module reference { module, export } instead`);
  }
  const free = freeVariables(source);
  if (free.length > 0) {
    throw new TypeError(
      `${what} (${fn.name || 'anonymous'}) uses '${free[0]}' from its enclosing scope${free.length > 1 ? ` (also: ${free.slice(1).join(', ')})` : ''}, ` +
        `which does not exist in the worker. Pass it as an argument, or import it inside the function with await import(...)` +
        (what.includes('option') ? '' : `, or reference an exported function: { module: import.meta.url, export: 'name' }`),
    );
  }
  return { source, name: fn.name };
}

const cache = new Map<string, Function>();

function keepName<F extends Function>(fn: F, name: string): F {
  return Object.defineProperty(fn, 'name', { value: name, configurable: true });
}

/** Rebuilds a function from its source (cached by source). Only ever used on functions the user's own process sent. */
export function deserializeFunction(payload: SerializedFunction): Function {
  const hit = cache.get(payload.source);
  if (hit) return hit;
  const src = payload.source;
  // Method shorthand ("name(a) { … }") is not an expression; make it one.
  const isExpression = /^(async\s+)?(function\b|\(|[\w$]+\s*=>|async\s*\()/.test(src) || /^class\b/.test(src);
  const text = isExpression ? src : `({ ${src} })[${JSON.stringify(payload.name)}]`;
  // esbuild's keepNames (tsx) wraps inner named functions in __name(fn, "name"): give it one.
  const fn = new Function('__name', `return (${text});`)(keepName) as Function;
  if (cache.size > 1000) cache.clear();
  cache.set(src, fn);
  return fn;
}
