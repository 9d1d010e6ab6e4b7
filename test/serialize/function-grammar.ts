/**
 * A grammar of self-contained functions for property tests: every form a function's source text
 * takes (declarations, expressions, arrows, async, generators, methods, getters, setters), with
 * bodies that use several declarators, destructuring with defaults, nested functions and classes
 * with fields, labels with labelled continue, getters, regex literals, optional chaining and
 * template literals — each name used only where it is declared. Every place an expression is
 * read is recorded, so a test can put one free variable in exactly one of them.
 */
import fc from 'fast-check';

/** A generated function: its text with expression sites, and how to render it. */
export interface GeneratedFunction {
  /** Text with `\0k\0` where expression site k goes. */
  template: string;
  /** What each expression site holds when the function is self-contained. */
  sites: string[];
  /** The function's name (what `fn.name` is once rebuilt). */
  name: string;
}

/** The text with every site filled in, except `freeAt` (if given), which reads `freeName` instead. */
export function render(f: GeneratedFunction, freeAt = -1, freeName = ''): string {
  return f.template.replace(/\0(\d+)\0/g, (_, k) => (Number(k) === freeAt ? freeName : f.sites[Number(k)]!));
}

type Gen = Parameters<Parameters<ReturnType<typeof fc.gen>['map']>[0]>[0];

class Builder {
  private n = 0;
  readonly sites: string[] = [];
  constructor(private readonly g: Gen) {}

  private int(max: number): number {
    return this.g(fc.nat, { max });
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length - 1)]!;
  }
  fresh(prefix = 'v'): string {
    return `${prefix}${this.n++}`;
  }

  /** An expression site reading names in scope (or literals and globals). */
  expr(scope: readonly string[]): string {
    const atoms = [...scope, ...scope, '1', "'s'", 'Math.max(1, 2)', 'null', 'JSON.stringify([])'];
    let e = this.pick(atoms);
    if (this.int(3) === 0) e = `(${e} ?? ${this.pick(atoms)})`;
    this.sites.push(e);
    return `\0${this.sites.length - 1}\0`;
  }

  /** Statements; returns the text (names declared inside stay inside). */
  block(scope: readonly string[], depth: number): string {
    const out: string[] = [];
    let visible = [...scope];
    for (let i = 0, count = 1 + this.int(2); i < count; i++) {
      const [text, declared] = this.statement(visible, depth);
      out.push(text);
      visible = [...visible, ...declared];
    }
    return out.join('\n');
  }

  private statement(scope: readonly string[], depth: number): [string, string[]] {
    const kinds = depth > 0 ? 13 : 9;
    switch (this.int(kinds - 1)) {
      case 0: {
        // Several declarators; a later one reads an earlier one.
        const [a, b] = [this.fresh(), this.fresh()];
        return [`${this.pick(['let', 'const', 'var'])} ${a} = ${this.expr(scope)}, ${b} = ${this.expr([...scope, a])};`, [a, b]];
      }
      case 1: {
        // Destructuring with defaults, renames, nesting and rest.
        const [a, b, c, r] = [this.fresh(), this.fresh(), this.fresh(), this.fresh()];
        return [`const { ${a} = ${this.expr(scope)}, k: [${b} = ${this.expr([...scope, a])}] = [], ...${r} } = { ${a}: ${this.expr(scope)} }, [${c} = ${this.expr(scope)}] = [];`, [a, b, c, r]];
      }
      case 2: {
        // A regex literal whose text looks like code (a slash in a class, an escaped slash, quotes).
        const r = this.fresh('re');
        return [`const ${r} = /a[/'"]b\\/c(?:d|e)*\`/gi.test(String(${this.expr(scope)}));`, [r]];
      }
      case 3: {
        // Optional chaining and calls.
        const o = this.fresh('oc');
        return [`const ${o} = ${this.expr(scope)}?.toString?.()?.length ?? ${this.expr(scope)};`, [o]];
      }
      case 4: {
        // Template literals, nested.
        const t = this.fresh('t');
        return [`const ${t} = \`x\${${this.expr(scope)}}y\${\`n\${${this.expr(scope)}}\`}{not code}\`;`, [t]];
      }
      case 5: {
        // An object literal with a getter, a setter, a method and a shorthand property.
        const [o, p] = [this.fresh('o'), this.fresh('p')];
        return [`const ${o} = { get g() { return ${this.expr(scope)}; }, set g(${p}) { void (${p} ?? ${this.expr(scope)}); }, m() { return this.g; }, ${this.pick(['Math', 'JSON'])} };`, [o]];
      }
      case 6: {
        // try/catch with a destructured catch binding with a default.
        const m = this.fresh('msg');
        return [`try { void ${this.expr(scope)}; } catch ({ message: ${m} = ${this.expr(scope)} }) { void ${m}; }`, []];
      }
      case 7:
        return [`if (${this.expr(scope)}) { void ${this.expr(scope)}; } else { void [${this.expr(scope)}]; }`, []];
      case 8: {
        // Property names that are also declared nowhere: keys, member accesses, labels are not reads.
        const x = this.fresh('x');
        return [`const ${x} = { undeclaredKey: ${this.expr(scope)} }.undeclaredKey?.alsoUndeclared;`, [x]];
      }
      case 9: {
        // Two loop variables, a labelled continue, a nested loop.
        const [i, j, k, label] = [this.fresh('i'), this.fresh('j'), this.fresh('k'), this.fresh('L')];
        const inner = this.block([...scope, i, j, k], depth - 1);
        return [`${label}: for (let ${i} = 0, ${j} = Number(${this.expr(scope)}) || 2; ${i} < ${j}; ${i}++) { for (const ${k} of [${this.expr([...scope, i])}]) { if (${k} === ${this.expr([...scope, i, j])}) continue ${label}; ${inner} } }`, []];
      }
      case 10: {
        // A nested function declaration with default and rest parameters (hoisted: callable after).
        const [f, p, rest] = [this.fresh('f'), this.fresh('p'), this.fresh('rest')];
        const body = this.block([...scope, f, p, rest], depth - 1);
        return [`function ${f}(${p} = ${this.expr(scope)}, ...${rest}) { ${body}\n return ${this.expr([...scope, p, rest])}; }\nvoid ${f}(${this.expr(scope)});`, [f]];
      }
      case 11: {
        // A nested arrow with a destructured parameter whose default reads the first parameter.
        const [f, p, q] = [this.fresh('arrow'), this.fresh('p'), this.fresh('q')];
        return [`const ${f} = async (${p}, { ${q} = ${p} } = {}) => ${p} ?? ${q} ?? ${this.expr([...scope, p, q])};`, [f]];
      }
      default: {
        // A nested class: fields (instance, static, private) whose initialisers read outer names, an accessor, a method.
        const [c, k] = [this.fresh('C'), this.fresh('k')];
        const body = this.block([...scope, c, k], depth - 1);
        return [
          `class ${c} { field = ${this.expr(scope)}; static sfield = ${this.expr([...scope, c])}; #secret = 1; get view() { return this.#secret + this.field; } method(${k}) { ${body}\n return ${k} ?? ${this.expr([...scope, k])}; } static { void ${c}.sfield; } }\nvoid new ${c}().method(${this.expr([...scope, c])});`,
          [c],
        ];
      }
    }
  }
}

/** Arbitrary self-contained functions, in every form a function's text takes. */
export const selfContainedFunction: fc.Arbitrary<GeneratedFunction> = fc.gen().map((g) => {
  const b = new Builder(g);
  const form = g(fc.constantFrom, 'declaration', 'async declaration', 'generator', 'expression', 'arrow', 'async arrow', 'expression arrow', 'method', 'async method', 'generator method', 'getter', 'setter');
  const [a, c] = [b.fresh('a'), b.fresh('b')];
  const params = form === 'getter' ? [] : form === 'setter' ? [a] : [a, c];
  const body = b.block(params, 2);
  const ret = b.expr(params);
  const name = b.fresh('fn');
  const paramList = form === 'getter' ? '' : form === 'setter' ? a : `${a}, { ${c} = ${a} } = {}`;
  const block = `{\n${body}\nreturn ${ret};\n}`;
  switch (form) {
    case 'declaration':
      return { template: `function ${name}(${paramList}) ${block}`, sites: b.sites, name };
    case 'async declaration':
      return { template: `async function ${name}(${paramList}) ${block}`, sites: b.sites, name };
    case 'generator':
      return { template: `function* ${name}(${paramList}) ${block.replace(/return ([^;]*);\n\}$/, 'yield $1;\n}')}`, sites: b.sites, name };
    case 'expression':
      return { template: `function (${paramList}) ${block}`, sites: b.sites, name: '' };
    case 'arrow':
      return { template: `(${paramList}) => ${block}`, sites: b.sites, name: '' };
    case 'async arrow':
      return { template: `async (${paramList}) => ${block}`, sites: b.sites, name: '' };
    case 'expression arrow':
      return { template: `(${paramList}) => (${ret})`, sites: b.sites, name: '' };
    case 'method':
      return { template: `${name}(${paramList}) ${block}`, sites: b.sites, name };
    case 'async method':
      return { template: `async ${name}(${paramList}) ${block}`, sites: b.sites, name };
    case 'generator method':
      return { template: `*${name}(${paramList}) ${block}`, sites: b.sites, name };
    case 'getter':
      return { template: `get ${name}() ${block}`, sites: b.sites, name: `get ${name}` };
    default:
      return { template: `set ${name}(${paramList}) ${block.replace(/return ([^;]*);\n\}$/, 'void $1;\n}')}`, sites: b.sites, name: `set ${name}` };
  }
});
