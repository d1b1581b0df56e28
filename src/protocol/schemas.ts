/**
 * JSON schemas for every route (docs/protocol.md §3), built from the wire types in
 * src/protocol/types.ts. Request bodies reject unknown fields; every string has a length bound.
 */
import { HASH_ID_PATTERN, LIMITS } from './types.js';
import { tokenSignerInfo } from './token-schemas.js';
import { ERROR_BODY_SCHEMA } from './errors.js';
import {
  B64_16,
  B64URL_NONEMPTY,
  b64_32,
  boolean,
  ciphertext,
  clientLabel,
  count,
  email,
  epoch,
  hashId,
  id,
  idList,
  sealedKeys,
  sessionToken,
  smallCiphertext,
  teamRole,
  text,
  time,
  tokenScope,
  wrappedKeys,
} from './schema-parts.js';

/** Weakest parameters the server accepts at signup (the client has its own floor too). */
export const MIN_KDF = { memoryKiB: 65536, iterations: 3 } as const;

/** Argon2id parameters as a client sends them (signup, password change, recovery) */
export const kdf = {
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

export const sessionInfo = {
  type: 'object',
  required: ['token', 'id', 'expiresAt'],
  properties: { token: sessionToken, id, expiresAt: time },
} as const;

/**
 * Argon2id parameters as answered (prelogin, account show): their shape only. Whether they are
 * strong enough is the client's check (crypto.md §3.1, `weak_kdf`), not a malformed answer.
 */
export const kdfAnswer = {
  type: 'object',
  required: ['alg', 'memoryKiB', 'iterations', 'parallelism', 'salt'],
  properties: { alg: text, memoryKiB: count, iterations: count, parallelism: count, salt: { type: 'string', pattern: B64_16 } },
} as const;

export const accountKeysAnswer = {
  type: 'object',
  required: accountKeys.required,
  properties: {
    wrappedAccountKey: ciphertext,
    x25519PublicKey: b64_32,
    ed25519PublicKey: b64_32,
    wrappedX25519Secret: ciphertext,
    wrappedEd25519Secret: ciphertext,
  },
} as const;

const teamInfo = {
  type: 'object',
  required: ['id', 'name', 'personal', 'role', 'epoch', 'sealedKeys'],
  properties: {
    id,
    name: text,
    personal: boolean,
    role: teamRole,
    epoch,
    confirmed: boolean,
    rotationPending: boolean,
    sealedKeys,
  },
} as const;

/** signup, login, me and recover/finish (docs/protocol.md §3.6) */
export const accountResponse = {
  type: 'object',
  required: ['user', 'keys', 'teams'],
  properties: {
    session: sessionInfo,
    user: {
      type: 'object',
      required: ['id', 'email', 'name', 'createdAt'],
      properties: { id, email: text, name: text, createdAt: time },
    },
    keys: accountKeysAnswer,
    teams: { type: 'array', items: teamInfo },
  },
} as const;

const workspaceInfo = {
  type: 'object',
  required: ['id', 'teamId', 'encryptedName', 'head', 'keys', 'createdAt', 'updatedAt', 'size'],
  properties: {
    id,
    teamId: id,
    encryptedName: ciphertext,
    head: { type: ['string', 'null'], pattern: HASH_ID_PATTERN },
    keys: wrappedKeys,
    createdAt: time,
    updatedAt: time,
    size: count,
    // only for access-token callers (see WorkspaceInfo.tokenKeys)
    tokenKeys: wrappedKeys,
    tokenScope,
  },
} as const;

const snapshotInfo = {
  type: 'object',
  required: ['id', 'parent', 'createdAt', 'data'],
  properties: { id: hashId, parent: { type: ['string', 'null'], pattern: HASH_ID_PATTERN }, createdAt: time, data: { type: 'string', pattern: B64URL_NONEMPTY } },
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
    response: { 200: { type: 'object', required: ['ok', 'protocol'], properties: { ok: boolean, protocol: count } } },
  },
  prelogin: {
    body: { type: 'object', additionalProperties: false, required: ['email'], properties: { email } },
    response: { 200: { type: 'object', required: ['kdf'], properties: { kdf: kdfAnswer } }, ...errors },
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
      200: { ...accountResponse, properties: { ...accountResponse.properties, activationMailSent: boolean } },
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
              properties: { userId: id, email: text, name: text, x25519PublicKey: b64_32, ed25519PublicKey: b64_32, untilEpoch: epoch },
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
      200: { type: 'object', required: ['missing'], properties: { missing: { type: 'array', maxItems: LIMITS.maxIdsPerRequest, items: hashId } } },
      ...errors,
    },
  },
  /** body: application/octet-stream frames, checked by decodeFrames */
  uploadBlobs: {
    params: workspaceParams,
    response: { 200: { type: 'object', required: ['stored'], properties: { stored: count } }, ...errors },
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
    response: { 200: { type: 'object', required: ['head'], properties: { head: hashId } }, ...errors },
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
