/**
 * Native implementation of Primitives on node:crypto, about ten times faster than pure noble for
 * large blobs. XChaCha20-Poly1305 is built from its definition (draft-irtf-cfrg-xchacha-03 §2.3):
 * subkey = HChaCha20(key, nonce[0:16]), then ChaCha20-Poly1305 (RFC 8439) with
 * IV = 4 zero bytes ‖ nonce[16:24]. Node has no HChaCha20, so noble's is used for that one block;
 * the output is byte-identical to noblePrimitives (test/crypto/native.test.ts checks it).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomFillSync } from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import { assertBytes } from '../crypto/args.js';
import { IntegrityError } from '../crypto/errors.js';
import { AEAD_TAG_LENGTH, checkAeadArgs, checkRandomLength, encryptOnce, type Primitives } from '../crypto/primitives.js';

// "expand 32-byte k" as raw bytes. noble's exported hchacha reads every argument as a
// Uint32Array view of little-endian bytes (it swaps on big-endian hosts itself), which is also
// how its own xchacha20 calls it, so views over byte arrays are passed, never numeric words.
const SIGMA_BYTES = new TextEncoder().encode('expand 32-byte k');

/** HChaCha20(key, nonce16) → 32-byte subkey. */
export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  assertBytes(key, 'key', 32);
  assertBytes(nonce16, 'nonce', 16);
  // Fresh copies guarantee 4-byte alignment for the Uint32Array views.
  const sigma = new Uint32Array(SIGMA_BYTES.slice().buffer);
  const k32 = new Uint32Array(key.slice().buffer);
  const n32 = new Uint32Array(nonce16.slice().buffer);
  const out = new Uint32Array(8);
  hchacha(sigma, k32, n32, out);
  k32.fill(0);
  return new Uint8Array(out.buffer);
}

function chachaIv(nonce: Uint8Array): Uint8Array {
  const iv = new Uint8Array(12);
  iv.set(nonce.subarray(16, 24), 4);
  return iv;
}

export const nodePrimitives: Primitives = {
  xchacha20poly1305(key, nonce, aad) {
    checkAeadArgs(key, nonce, aad);
    const markEncrypted = encryptOnce();
    return {
      encrypt(plaintext) {
        assertBytes(plaintext, 'plaintext');
        markEncrypted();
        const subkey = hchacha20(key, nonce.subarray(0, 16));
        try {
          const cipher = createCipheriv('chacha20-poly1305', subkey, chachaIv(nonce), { authTagLength: AEAD_TAG_LENGTH });
          cipher.setAAD(aad, { plaintextLength: plaintext.length });
          const out = new Uint8Array(plaintext.length + AEAD_TAG_LENGTH);
          const body = cipher.update(plaintext);
          const rest = cipher.final();
          out.set(body, 0);
          out.set(rest, body.length);
          out.set(cipher.getAuthTag(), plaintext.length);
          return out;
        } finally {
          subkey.fill(0);
        }
      },
      decrypt(ciphertextAndTag) {
        assertBytes(ciphertextAndTag, 'ciphertext');
        if (ciphertextAndTag.length < AEAD_TAG_LENGTH) throw new IntegrityError();
        const split = ciphertextAndTag.length - AEAD_TAG_LENGTH;
        const subkey = hchacha20(key, nonce.subarray(0, 16));
        try {
          const decipher = createDecipheriv('chacha20-poly1305', subkey, chachaIv(nonce), { authTagLength: AEAD_TAG_LENGTH });
          decipher.setAuthTag(ciphertextAndTag.subarray(split));
          decipher.setAAD(aad, { plaintextLength: split });
          const out = new Uint8Array(split);
          const body = decipher.update(ciphertextAndTag.subarray(0, split));
          // final() throws when the tag does not verify; the plaintext is only returned after it.
          const rest = decipher.final();
          out.set(body, 0);
          out.set(rest, body.length);
          return out;
        } catch {
          throw new IntegrityError();
        } finally {
          subkey.fill(0);
        }
      },
    };
  },
  hmacSha256(key, message) {
    assertBytes(key, 'key');
    assertBytes(message, 'message');
    return Uint8Array.from(createHmac('sha256', key).update(message).digest());
  },
  sha256(message) {
    assertBytes(message, 'message');
    return Uint8Array.from(createHash('sha256').update(message).digest());
  },
  randomBytes(length) {
    checkRandomLength(length);
    return randomFillSync(new Uint8Array(length));
  },
};
