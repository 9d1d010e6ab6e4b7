// ESLint: typescript-eslint's recommended type-checked rules over the library source (src/), and ESLint's
// recommended rules over the plain-JS files that ship or build it (workers/, scripts/).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The Node globals workers/ and scripts/ use; listed here rather than pulling in the `globals` package for a dozen names.
const nodeGlobals = Object.fromEntries(
  [
    'process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval',
    'setImmediate', 'clearImmediate', 'queueMicrotask', 'structuredClone', 'SharedArrayBuffer', 'Atomics',
    'AbortController', 'TextEncoder', 'TextDecoder', 'performance', 'fetch',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/**', 'cjs/**', 'node_modules/**', 'docs/**', 'coverage/**'] },
  {
    files: ['src/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['workers/**/*.mjs', 'scripts/**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: nodeGlobals },
  },
);
