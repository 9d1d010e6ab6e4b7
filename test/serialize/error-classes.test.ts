/** Error classes by class name (SDK errors keep name 'Error'), Headers and non-enumerable data across the boundary. */
import { describe, expect, it } from 'vitest';
import { TimeoutError, registerErrorClasses } from '../../src/index.js';
import { decodeError, encodeError } from '../../src/serialize/errors.js';

/** As SDKs write them: a hierarchy whose `name` stays the default 'Error'. */
class SdkError extends Error {}
class SdkApiError extends SdkError {
  constructor(readonly status: number, readonly headers: Headers) {
    super(`${status} failed`);
  }
}
class SdkRateLimitError extends SdkApiError {}

const roundTrip = (e: unknown) => decodeError(structuredClone(encodeError(e)));

describe('error classes by class name', () => {
  it('an unregistered class comes back as Error, with its fields; a registered one keeps instanceof', () => {
    const e = new SdkRateLimitError(429, new Headers({ 'retry-after': '2' }));
    const plain = roundTrip(e) as SdkRateLimitError;
    expect(plain).not.toBeInstanceOf(SdkError);
    expect(plain.status).toBe(429);
    expect(registerErrorClasses({ SdkError, SdkApiError, SdkRateLimitError, notAClass: 42 })).toBe(3);
    const back = roundTrip(e) as SdkRateLimitError;
    expect(back).toBeInstanceOf(SdkRateLimitError);
    expect(back).toBeInstanceOf(SdkApiError);
    expect(back.name).toBe('Error');
    expect(back.message).toBe('429 failed');
    expect(back.headers).toBeInstanceOf(Headers);
    expect(back.headers.get('retry-after')).toBe('2');
  });

  it("an SDK's class named like a concurry or built-in class never shadows it", () => {
    class TimeoutErrorOfSdk extends Error {}
    Object.defineProperty(TimeoutErrorOfSdk, 'name', { value: 'TimeoutError' });
    expect(registerErrorClasses({ TimeoutErrorOfSdk })).toBe(0);
    expect(roundTrip(new TimeoutError('late'))).toBeInstanceOf(TimeoutError);
  });

  it('non-enumerable own data (zod 4 keeps ZodError.issues so) crosses; functions and _internals do not', () => {
    const e = new Error('invalid');
    Object.defineProperty(e, 'issues', { value: [{ path: ['a'], message: 'Required' }], enumerable: false });
    Object.defineProperty(e, '_zod', { value: { def: {} }, enumerable: false });
    Object.defineProperty(e, 'format', { value: () => 'x', enumerable: false });
    const back = roundTrip(e) as Error & Record<string, unknown>;
    expect(back.issues).toEqual([{ path: ['a'], message: 'Required' }]);
    expect(back._zod).toBeUndefined();
    expect(back.format).toBeUndefined();
  });
});
