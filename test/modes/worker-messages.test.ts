/** Messages that name the fix (issue 18, item 6). */
import { afterEach, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { ConfigError, type Mode } from '../../src/index.js';
import { describeType, locateFailureMessage } from '../../src/modes/ipc/worker-messages.js';
import { OpenAIClassifier } from '../fixtures/openai-workers.js';

const fixture = (name: string) => pathToFileURL(new URL(`../fixtures/${name}`, import.meta.url).pathname).href;
const unknownExtension = Object.assign(new TypeError('Unknown file extension ".ts" for /app/src/llm.ts'), { code: 'ERR_UNKNOWN_FILE_EXTENSION' });

describe('a worker class that cannot be located', () => {
  it('a .ts module without tsx: says to install tsx', () => {
    const message = locateFailureMessage('LLM', [{ url: 'file:///app/src/llm.ts', error: unknownExtension }]);
    expect(message).toMatch(/^Could not find class LLM for a thread\/process worker\. Tried: file:\/\/\/app\/src\/llm\.ts \(import failed: Unknown file extension "\.ts"/);
    expect(message).toContain('Fix: install tsx (npm install --save-dev tsx)');
    expect(message).not.toMatch(/add this line|export the class/);
  });

  it('a module that starts workers at top level: names the isMainModule guard', () => {
    const guard = new ConfigError('LLM.options(...).init() ran inside a worker … if (isMainModule(import.meta.url)) { … }');
    const message = locateFailureMessage('LLM', [{ url: 'file:///app/main.ts', error: guard }]);
    expect(message).toContain("Fix: guard the module's top-level code that starts workers: if (isMainModule(import.meta.url))");
    expect(message).not.toMatch(/add this line|export the class/);
  });

  it("the class's module throws for another reason: shows its error, not an unrelated hint", () => {
    const url = fixture('helper-workers.ts'); // declares class Helpers
    const message = locateFailureMessage('Helpers', [{ url, error: new Error('OPENAI_API_KEY is not set') }]);
    expect(message).toContain(`Fix: ${url} threw while the worker imported it (OPENAI_API_KEY is not set)`);
  });

  it('a module that only imports the class throws: the hint is still about the class\'s own module', () => {
    const message = locateFailureMessage('Hidden', [{ url: fixture('helper-workers.ts'), error: new Error('no suite') }]);
    expect(message).toContain('Fix: add this line inside class Hidden');
  });

  it('the module defines the class but does not export it: says to export it', () => {
    const url = fixture('remote-workers.ts'); // declares `class Hidden` and exports it only as Alias
    expect(locateFailureMessage('Hidden', [{ url }])).toContain(`Fix: export the class from ${url}: export class Hidden …`);
  });

  it('no candidate module defines the class: says to add static module', () => {
    const message = locateFailureMessage('Hidden', [{ url: fixture('helper-workers.ts') }]);
    expect(message).toContain('Fix: add this line inside class Hidden, in the file that defines it, and export the class there: static module = import.meta.url;');
  });
});

describe('an init() argument that cannot be sent to the worker', () => {
  const handles: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.stop()));
  });

  it.each(['thread', 'process'] as Mode[])('%s: a ConfigError naming init(), the position and the type; no worker is left running', async (mode) => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Worker').length;
    let error: unknown;
    try {
      handles.push(OpenAIClassifier.options({ mode }).init((() => 'http://x') as unknown as string));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      new RegExp(`^OpenAIClassifier\\.options\\(\\.\\.\\.\\)\\.init\\(\\): argument 1 is an anonymous function, which cannot be sent to a ${mode} worker \\(.*\\)\\. Pass plain data`),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Worker').length).toBe(before);
  });

  it('describes types plainly', () => {
    expect(describeType(function connect() {})).toBe('a function (connect)');
    expect(describeType(new AbortController())).toBe('an AbortController instance');
    expect(describeType(Symbol('s'))).toBe('a symbol');
    expect(describeType({ a: 1 })).toBe('an object');
  });
});
