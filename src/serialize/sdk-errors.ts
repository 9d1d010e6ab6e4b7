/**
 * Error classes of well-known SDKs, registered on the caller's side so their errors keep
 * `instanceof` when they come back from a thread or process worker. Their errors keep the default
 * `name` 'Error' (openai's RateLimitError, APIConnectionError…), so the class is found by class
 * name among the registered ones (see errors.ts).
 *
 * Loading is on demand: the first error of such an SDK that reaches the caller starts loading that
 * SDK's module (the ESM build, whose classes an ESM caller's `instanceof` compares with; already
 * in the module cache when the caller imports the SDK itself), and that error is handed over once it
 * is loaded. Processes that never see one pay nothing.
 */
import { isEncodedError, registerErrorClasses } from './errors.js';

/** The base class every error of an SDK extends, and the package that exports its classes. */
const KNOWN_SDKS: readonly { base: string; pkg: string }[] = [
  { base: 'OpenAIError', pkg: 'openai' },
  { base: 'AnthropicError', pkg: '@anthropic-ai/sdk' },
];

const loads = new Map<string, Promise<void>>();

/** The SDK package an encoded error comes from, when its classes were not loaded yet. */
function pendingSdk(value: unknown): string | undefined {
  if (!isEncodedError(value)) return undefined;
  const chain = value.classes;
  if (!chain) return undefined;
  const sdk = KNOWN_SDKS.find((s) => chain.includes(s.base));
  return sdk && !loads.has(sdk.pkg) ? sdk.pkg : undefined;
}

/**
 * Undefined when `value` (an error in transit) can be decoded now; otherwise a promise that
 * resolves once its SDK's error classes are registered (or could not be loaded: it then decodes
 * as a plain Error with every property, as before).
 */
export function sdkClassesLoading(value: unknown): Promise<void> | undefined {
  const pkg = pendingSdk(value);
  if (!pkg) return undefined;
  const loading = import(pkg).then(
    (m: object) => void registerErrorClasses(m),
    () => undefined,
  );
  loads.set(pkg, loading);
  return loading;
}
