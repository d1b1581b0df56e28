import { CryptoArgumentError } from './errors.js';

/** Wrong type and wrong length are different mistakes; the message says which one happened. */
export function assertBytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoArgumentError(`${name} must be a Uint8Array, got ${describeType(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new CryptoArgumentError(`${name} must be ${length} bytes, got ${value.length}`);
  }
}

export function assertString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new CryptoArgumentError(`${name} must be a string, got ${describeType(value)}`);
  }
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
