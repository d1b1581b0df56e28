/**
 * The primitive operations the format is built from, behind one injectable interface: the pure
 * core never reaches for a global RNG or a native module, so tests can inject randomness and the
 * client can swap in the faster native implementation (src/native/primitives-node.ts) for blobs
 * and curve operations.
 * Both implementations MUST produce byte-identical output for the same inputs.
 * Importing this module loads @noble/curves (through curves-noble.ts); the native client does not.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { assertBytes } from './args.js';
import { nobleEd25519, nobleX25519 } from './curves-noble.js';
import { IntegrityError } from './errors.js';
import { offerDefaultHashes, type HashPrimitives } from './hash-default.js';
import { AEAD_TAG_LENGTH, checkAeadArgs, checkRandomLength, encryptOnce, type Primitives } from './primitives-contract.js';

// The contract lives in primitives-contract.ts; re-exported here, where callers have always found it.
export {
  AEAD_KEY_LENGTH,
  AEAD_NONCE_LENGTH,
  AEAD_TAG_LENGTH,
  checkAeadArgs,
  checkRandomLength,
  encryptOnce,
  type AeadInstance,
  type Primitives,
} from './primitives-contract.js';

// WebCrypto's getRandomValues, which noble uses, refuses more than 65536 bytes per call.
const RANDOM_CHUNK = 65536;

export const noblePrimitives: Primitives = {
  xchacha20poly1305(key, nonce, aad) {
    checkAeadArgs(key, nonce, aad);
    const markEncrypted = encryptOnce();
    return {
      encrypt(plaintext) {
        assertBytes(plaintext, 'plaintext');
        markEncrypted();
        return xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
      },
      decrypt(ciphertextAndTag) {
        assertBytes(ciphertextAndTag, 'ciphertext');
        if (ciphertextAndTag.length < AEAD_TAG_LENGTH) throw new IntegrityError();
        try {
          return xchacha20poly1305(key, nonce, aad).decrypt(ciphertextAndTag);
        } catch {
          throw new IntegrityError();
        }
      },
    };
  },
  hmacSha256(key, message) {
    assertBytes(key, 'key');
    assertBytes(message, 'message');
    return hmac(sha256, key, message);
  },
  sha256(message) {
    assertBytes(message, 'message');
    return sha256(message);
  },
  randomBytes(length) {
    checkRandomLength(length);
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += RANDOM_CHUNK) {
      out.set(nobleRandomBytes(Math.min(RANDOM_CHUNK, length - offset)), offset);
    }
    return out;
  },
  x25519: nobleX25519,
  ed25519: nobleEd25519,
};

/** SHA-256 and HKDF-SHA256 for code that takes no Primitives (crypto/hash-default.ts). */
export const nobleHashes: HashPrimitives = {
  sha256: (m) => sha256(m),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
};

offerDefaultHashes(nobleHashes);
