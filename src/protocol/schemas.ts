/**
 * JSON schemas for every route (docs/protocol.md §3), built from the wire types in
 * src/protocol/types.ts. Request bodies reject unknown fields; every string has a length bound.
 */
import { HASH_ID_PATTERN, ID_PATTERN, LIMITS } from './types.js';
import { tokenSignerInfo } from './token-schemas.js';
import { ERROR_BODY_SCHEMA } from './errors.js';

const B64URL = '^[A-Za-z0-9_-]*$';
const B64URL_NONEMPTY = '^[A-Za-z0-9_-]+$';
/** exactly 32 bytes as unpadded base64url */
const B64_32 = '^[A-Za-z0-9_-]{43}$';
/** exactly 16 bytes as unpadded base64url */
const B64_16 = '^[A-Za-z0-9_-]{22}$';
/** wrapped or sealed keys and encrypted names: small ciphertexts */
const MAX_SMALL_CIPHERTEXT_CHARS = 4096;

const id = { type: 'string', pattern: ID_PATTERN } as const;
const hashId = { type: 'string', pattern: HASH_ID_PATTERN } as const;
const b64_32 = { type: 'string', pattern: B64_32 } as const;
const smallCiphertext = { type: 'string', pattern: B64URL, minLength: 1, maxLength: MAX_SMALL_CIPHERTEXT_CHARS } as const;
const email = { type: 'string', minLength: 3, maxLength: LIMITS.maxEmailChars + 16 } as const;
const clientLabel = { type: 'string', maxLength: 200 } as const;
const isoTime = { type: 'string' } as const;
const epoch = { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 } as const;
const idList = { type: 'array', maxItems: LIMITS.maxIdsPerRequest, items: hashId } as const;

/** Weakest parameters the server accepts at signup (the client has its own floor too). */
export const MIN_KDF = { memoryKiB: 65536, iterations: 3 } as const;

const kdf = {
  type: 'object',
  additionalProperties: false,
  required: ['alg', 'memoryKiB', 'iterations', 'parallelism', 'salt'],
  properties: {
    alg: { type: 'string', const: 'argon2id' },
    memoryKiB: { type: 'integer', minimum: MIN_KDF.memoryKiB, maximum: 4 * 1024 * 1024 },
    iterations: { type: 'integer', minimum: MIN_KDF.iterations, maximum: 100 },
    parallelism: { type: 'integer', minimum: 1, maximum: 64 },
    salt: { type: 'string', pattern: B64_16 },
  },
} as const;

const accountKeys = {
  type: 'object',
  additionalProperties: false,
  required: ['wrappedAccountKey', 'x25519PublicKey', 'ed25519PublicKey', 'wrappedX25519Secret', 'wrappedEd25519Secret'],
  properties: {
    wrappedAccountKey: smallCiphertext,
    x25519PublicKey: b64_32,
    ed25519PublicKey: b64_32,
    wrappedX25519Secret: smallCiphertext,
    wrappedEd25519Secret: smallCiphertext,
  },
} as const;

const workspaceKey = {
  type: 'object',
  additionalProperties: false,
  required: ['epoch', 'wrappedKey'],
  properties: { epoch, wrappedKey: smallCiphertext },
} as const;

const errorBody = ERROR_BODY_SCHEMA;

// responses

const sessionInfo = {
  type: 'object',
  required: ['token', 'id', 'expiresAt'],
  properties: { token: { type: 'string' }, id: { type: 'string' }, expiresAt: isoTime },
} as const;

const teamInfo = {
  type: 'object',
  required: ['id', 'name', 'personal', 'role', 'epoch', 'sealedKeys'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    personal: { type: 'boolean' },
    role: { type: 'string' },
    epoch: { type: 'integer' },
    confirmed: { type: 'boolean' },
    rotationPending: { type: 'boolean' },
    sealedKeys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['epoch', 'sealedKey'],
        properties: { epoch: { type: 'integer' }, sealedKey: { type: 'string' } },
      },
    },
  },
} as const;

const accountResponse = {
  type: 'object',
  required: ['user', 'keys', 'teams'],
  properties: {
    session: sessionInfo,
    user: {
      type: 'object',
      required: ['id', 'email', 'name', 'createdAt'],
      properties: { id: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' }, createdAt: isoTime },
    },
    keys: {
      type: 'object',
      required: accountKeys.required,
      properties: {
        wrappedAccountKey: { type: 'string' },
        x25519PublicKey: { type: 'string' },
        ed25519PublicKey: { type: 'string' },
        wrappedX25519Secret: { type: 'string' },
        wrappedEd25519Secret: { type: 'string' },
      },
    },
    teams: { type: 'array', items: teamInfo },
  },
} as const;

const workspaceInfo = {
  type: 'object',
  required: ['id', 'teamId', 'encryptedName', 'head', 'keys', 'createdAt', 'updatedAt', 'size'],
  properties: {
    id: { type: 'string' },
    teamId: { type: 'string' },
    encryptedName: { type: 'string' },
    head: { type: ['string', 'null'] },
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['epoch', 'wrappedKey'],
        properties: { epoch: { type: 'integer' }, wrappedKey: { type: 'string' } },
      },
    },
    createdAt: isoTime,
    updatedAt: isoTime,
    size: { type: 'integer' },
    // only for access-token callers (see WorkspaceInfo.tokenKeys)
    tokenKeys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['epoch', 'wrappedKey'],
        properties: { epoch: { type: 'integer' }, wrappedKey: { type: 'string' } },
      },
    },
    tokenScope: { type: 'string', enum: ['read', 'write'] },
  },
} as const;

const snapshotInfo = {
  type: 'object',
  required: ['id', 'parent', 'createdAt', 'data'],
  properties: { id: { type: 'string' }, parent: { type: ['string', 'null'] }, createdAt: isoTime, data: { type: 'string' } },
} as const;

const errors = { 400: errorBody, 401: errorBody, 404: errorBody, 409: errorBody, 413: errorBody } as const;

const workspaceParams = {
  type: 'object',
  additionalProperties: false,
  required: ['workspaceId'],
  properties: { workspaceId: id },
} as const;

const noContent = { type: 'null' } as const;

const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;

export const schemas = {
  healthz: {
    response: { 200: { type: 'object', required: ['ok', 'protocol'], properties: { ok: { type: 'boolean' }, protocol: { type: 'integer' } } } },
  },
  prelogin: {
    body: { type: 'object', additionalProperties: false, required: ['email'], properties: { email } },
    response: { 200: { type: 'object', required: ['kdf'], properties: { kdf } }, ...errors },
  },
  signup: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['userId', 'email', 'name', 'kdf', 'authKey', 'keys', 'personalTeam'],
      properties: {
        userId: id,
        email,
        name: { type: 'string', maxLength: LIMITS.maxNameChars },
        kdf,
        authKey: b64_32,
        keys: accountKeys,
        personalTeam: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'sealedTeamKey'],
          properties: { id, sealedTeamKey: smallCiphertext },
        },
        client: clientLabel,
      },
    },
    response: {
      200: { ...accountResponse, properties: { ...accountResponse.properties, activationMailSent: { type: 'boolean' } } },
      ...errors,
    },
  },
  login: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['email', 'authKey'],
      properties: { email, authKey: b64_32, client: clientLabel },
    },
    response: { 200: accountResponse, ...errors },
  },
  logout: { body: emptyBody, response: { 204: noContent, ...errors } },
  me: { response: { 200: accountResponse, ...errors } },
  listWorkspaces: {
    response: {
      200: { type: 'object', required: ['workspaces'], properties: { workspaces: { type: 'array', items: workspaceInfo } } },
      ...errors,
    },
  },
  createWorkspace: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'teamId', 'encryptedName', 'key'],
      properties: { id, teamId: id, encryptedName: smallCiphertext, key: workspaceKey },
    },
    response: { 200: workspaceInfo, ...errors },
  },
  getWorkspace: { params: workspaceParams, response: { 200: workspaceInfo, ...errors } },
  renameWorkspace: {
    params: workspaceParams,
    body: { type: 'object', additionalProperties: false, required: ['encryptedName'], properties: { encryptedName: smallCiphertext } },
    response: { 200: workspaceInfo, ...errors },
  },
  deleteWorkspace: { params: workspaceParams, response: { 204: noContent, ...errors } },
  workspaceMembers: {
    params: workspaceParams,
    response: {
      200: {
        type: 'object',
        required: ['members'],
        properties: {
          members: {
            type: 'array',
            items: {
              type: 'object',
              required: ['userId', 'email', 'name', 'x25519PublicKey', 'ed25519PublicKey'],
              properties: {
                userId: { type: 'string' },
                email: { type: 'string' },
                name: { type: 'string' },
                x25519PublicKey: { type: 'string' },
                ed25519PublicKey: { type: 'string' },
                untilEpoch: { type: 'integer' },
              },
            },
          },
          tokens: { type: 'array', items: tokenSignerInfo },
        },
      },
      ...errors,
    },
  },
  missingBlobs: {
    params: workspaceParams,
    body: { type: 'object', additionalProperties: false, required: ['ids'], properties: { ids: idList } },
    response: {
      200: { type: 'object', required: ['missing'], properties: { missing: { type: 'array', items: { type: 'string' } } } },
      ...errors,
    },
  },
  /** body: application/octet-stream frames, checked by decodeFrames */
  uploadBlobs: {
    params: workspaceParams,
    response: { 200: { type: 'object', required: ['stored'], properties: { stored: { type: 'integer' } } }, ...errors },
  },
  /** answer: application/octet-stream frames, so no JSON response schema for 200 */
  fetchBlobs: {
    params: workspaceParams,
    body: { type: 'object', additionalProperties: false, required: ['ids'], properties: { ids: idList } },
    response: errors,
  },
  createSnapshot: {
    params: workspaceParams,
    // the key epoch the snapshot was encrypted under, as the client says (it cannot be checked
    // here): one older than the team's means a rotation happened while the client pushed
    querystring: { type: 'object', additionalProperties: false, properties: { epoch: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' } } },
    body: {
      content: {
        'application/json': {
          schema: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'parent', 'data', 'blobIds'],
            properties: {
              id: hashId,
              parent: { type: ['string', 'null'], pattern: HASH_ID_PATTERN },
              // a manifest runs to megabytes: `+` instead of minLength, and no maxLength (the body
              // limit bounds it), because ajv counts a string's length by walking every code point
              data: { type: 'string', pattern: B64URL_NONEMPTY },
              // a manifest may reference more blobs than one missing/fetch call carries; the body limit bounds it
              blobIds: { type: 'array', maxItems: 1_000_000, items: hashId },
            },
          },
        },
        /** the same as protocol/snapshot-frames.ts SnapshotUpload, checked by decodeSnapshotUpload */
        'application/octet-stream': { schema: {} },
      },
    },
    response: { 200: { type: 'object', required: ['head'], properties: { head: { type: 'string' } } }, ...errors },
  },
  listSnapshots: {
    params: workspaceParams,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: {
        limit: { type: 'string', pattern: '^[1-9][0-9]{0,5}$' },
        before: hashId,
      },
    },
    response: {
      200: { type: 'object', required: ['snapshots'], properties: { snapshots: { type: 'array', items: snapshotInfo } } },
      ...errors,
    },
  },
  getSnapshot: {
    params: {
      type: 'object',
      additionalProperties: false,
      required: ['workspaceId', 'snapshotId'],
      properties: { workspaceId: id, snapshotId: hashId },
    },
    response: { 200: snapshotInfo, ...errors },
  },
} as const;
