/**
 * Error classes of well-known SDKs, registered on the caller's side so their errors keep
 * `instanceof` when they come back from a thread or process worker. Their errors keep the default
 * `name` 'Error' (openai's RateLimitError, APIConnectionError…), so the class cannot be found by
 * name: it is found by class name among the registered ones (see errors.ts).
 */
import { createRequire } from 'node:module';
import { registerErrorClasses } from './errors.js';

/** Packages whose error classes are worth registering when they are installed. */
const KNOWN_SDKS = ['openai', '@anthropic-ai/sdk'];

let loading: Promise<void> | undefined;

/**
 * Starts loading (once, in the background) the installed SDKs of {@link KNOWN_SDKS} and registers
 * their error classes. Called when the first thread or process worker starts: long before the
 * first error can come back. An SDK that is not installed costs one failed resolve.
 */
export function preloadSdkErrorClasses(): Promise<void> {
  if (loading) return loading;
  const require = createRequire(import.meta.url);
  const installed = KNOWN_SDKS.filter((pkg) => {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  });
  // The ESM build (import()), so the classes are the ones an ESM caller's `instanceof` compares with.
  loading = Promise.all(installed.map((pkg) => import(pkg).then((m) => void registerErrorClasses(m), () => undefined))).then(() => undefined);
  return loading;
}
