/**
 * The pieces the route schemas (schemas.ts, account-schemas.ts, team-schemas.ts, token-schemas.ts)
 * are built of, named after docs/protocol.md's notation: hex32, hex64, b64(n), ciphertext, times.
 *
 * Request pieces bound every string (the server holds what it is sent). Answer pieces say what a
 * conforming server sends, strictly enough that a client can use an answer that passes without
 * looking again (docs/protocol.md §7.2): ids and keys of their exact form, times as
 * `toISOString` writes them, counts that are whole and not negative, roles and scopes from their
 * lists. They use `pattern` and no `minLength`/`maxLength`, so that the client's generated
 * validators (response-validators.generated.ts) need nothing of ajv at run time; the size of an
 * answer is bounded where it is read (ANSWER_LIMITS in src/client/api.ts).
 */
import { HASH_ID_PATTERN, ID_PATTERN, LIMITS } from './types.js';

export const B64URL = '^[A-Za-z0-9_-]*$';
export const B64URL_NONEMPTY = '^[A-Za-z0-9_-]+$';
/** exactly 32 bytes as unpadded base64url */
export const B64_32 = '^[A-Za-z0-9_-]{43}$';
/** exactly 16 bytes as unpadded base64url */
export const B64_16 = '^[A-Za-z0-9_-]{22}$';
/** exactly 64 bytes as unpadded base64url */
export const B64_64 = '^[A-Za-z0-9_-]{86}$';
/** wrapped or sealed keys and encrypted names: small ciphertexts */
export const MAX_SMALL_CIPHERTEXT_CHARS = 4096;
/** a time as Date.prototype.toISOString writes it (docs/protocol.md §1.1) */
export const ISO_TIME = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$';

export const id = { type: 'string', pattern: ID_PATTERN } as const;
export const hashId = { type: 'string', pattern: HASH_ID_PATTERN } as const;
export const b64_32 = { type: 'string', pattern: B64_32 } as const;
export const b64_64 = { type: 'string', pattern: B64_64 } as const;
export const smallCiphertext = { type: 'string', pattern: B64URL, minLength: 1, maxLength: MAX_SMALL_CIPHERTEXT_CHARS } as const;
export const email = { type: 'string', minLength: 3, maxLength: LIMITS.maxEmailChars + 16 } as const;
export const clientLabel = { type: 'string', maxLength: 200 } as const;
export const epoch = { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 } as const;
export const idList = { type: 'array', maxItems: LIMITS.maxIdsPerRequest, items: hashId } as const;
export const teamRole = { type: 'string', enum: ['owner', 'admin', 'member'] } as const;
export const tokenScope = { type: 'string', enum: ['read', 'write'] } as const;

// answers

/** text a server keeps for people (a name, an email, a reason): any string, shown escaped by the CLI */
export const text = { type: 'string' } as const;
export const textOrNull = { type: ['string', 'null'] } as const;
export const time = { type: 'string', pattern: ISO_TIME } as const;
export const timeOrNull = { type: ['string', 'null'], pattern: ISO_TIME } as const;
/** a ciphertext the server hands back as it was given (its bounds were checked when it was sent) */
export const ciphertext = { type: 'string', pattern: B64URL_NONEMPTY } as const;
export const count = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
export const boolean = { type: 'boolean' } as const;
/** a session's bearer token: 32 random bytes */
export const sessionToken = b64_32;

/** the team keys sealed to the caller, one per epoch */
export const sealedKeys = {
  type: 'array',
  items: { type: 'object', required: ['epoch', 'sealedKey'], properties: { epoch, sealedKey: ciphertext } },
} as const;
/** a workspace key wrapped under a team (or token) key, one per epoch */
export const wrappedKeys = {
  type: 'array',
  items: { type: 'object', required: ['epoch', 'wrappedKey'], properties: { epoch, wrappedKey: ciphertext } },
} as const;
