import { describe, expect, it } from 'vitest';
import { primeFields } from '../../src/util/field-shapes.js';

describe('primeFields', () => {
  it('stores into every named field of the throwaway, leaving the others alone', () => {
    class Slot {
      value: unknown = 1;
      count = 5;
      other = 'kept';
    }
    const slot = new Slot();
    primeFields(slot, { any: ['value'], smallIntegers: ['count'] });
    expect(slot.value).not.toBe(1);
    expect(slot.count).toBe(0);
    expect(slot.other).toBe('kept');
  });

  it('throws, naming the class and the field, when the object has no such field (a renamed field would otherwise go unprimed)', () => {
    class Slot {
      value = 1;
    }
    expect(() => primeFields(new Slot(), { any: ['value', 'vaule'] })).toThrow('primeFields: Slot has no field vaule');
    expect(() => primeFields(new Slot(), { smallIntegers: ['count'] })).toThrow('primeFields: Slot has no field count');
  });
});
