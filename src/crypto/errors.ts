/**
 * Error classes of the crypto core. Each has a stable `code` so callers (CLI exit codes, server
 * responses) can map them without parsing messages.
 */

export class CryptoError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * Every failed decryption or verification. The message is deliberately the same whatever went
 * wrong (wrong key, flipped byte, wrong slot, unknown version, truncation), so an error can never
 * serve as an oracle telling an attacker which part of a forged ciphertext was accepted.
 */
export class IntegrityError extends CryptoError {
  constructor() {
    super('integrity', 'integrity check failed: the data was altered, is in the wrong place, or the key is wrong');
  }
}

/** Server-supplied KDF parameters that are weaker than the client's built-in minimum, or malformed. */
export class KdfParamsError extends CryptoError {
  constructor(message: string) {
    super('weak_kdf', message);
  }
}

/** A programming error: an argument of the wrong type or the wrong length. */
export class CryptoArgumentError extends CryptoError {
  constructor(message: string) {
    super('bad_argument', message);
  }
}
