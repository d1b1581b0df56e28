/** JSON schemas of the account-lifecycle routes (docs/protocol.md §3.22–3.29). */
import { ID_PATTERN, LIMITS } from './types.js';
import { MIN_KDF } from './schemas.js';
import { tokenInfo } from './token-schemas.js';
import { ERROR_BODY_SCHEMA } from './errors.js';

const B64_32 = { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } as const;
const smallCiphertext = { type: 'string', pattern: '^[A-Za-z0-9_-]*$', minLength: 1, maxLength: 4096 } as const;
const email = { type: 'string', minLength: 3, maxLength: LIMITS.maxEmailChars + 16 } as const;
const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const int = { type: 'integer' } as const;

const kdf = {
  type: 'object',
  additionalProperties: false,
  required: ['alg', 'memoryKiB', 'iterations', 'parallelism', 'salt'],
  properties: {
    alg: { type: 'string', const: 'argon2id' },
    memoryKiB: { type: 'integer', minimum: MIN_KDF.memoryKiB, maximum: 4 * 1024 * 1024 },
    iterations: { type: 'integer', minimum: MIN_KDF.iterations, maximum: 100 },
    parallelism: { type: 'integer', minimum: 1, maximum: 64 },
    salt: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' },
  },
} as const;

const errorBody = ERROR_BODY_SCHEMA;
const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody } as const;

const sessionView = {
  type: 'object',
  required: ['id', 'client', 'ip', 'createdAt', 'lastSeenAt', 'expiresAt', 'current'],
  properties: { id: str, client: strOrNull, ip: strOrNull, createdAt: str, lastSeenAt: str, expiresAt: str, current: { type: 'boolean' } },
} as const;

const endedSessionView = {
  type: 'object',
  required: ['id', 'client', 'ip', 'createdAt', 'lastSeenAt', 'expiresAt', 'revokedAt'],
  properties: { id: str, client: strOrNull, ip: strOrNull, createdAt: str, lastSeenAt: str, expiresAt: str, revokedAt: strOrNull },
} as const;

const invitationView = {
  type: 'object',
  required: ['id', 'teamId', 'teamName', 'role', 'state', 'createdAt', 'expiresAt', 'acceptedAt'],
  properties: { id: str, teamId: str, teamName: str, role: str, state: str, createdAt: str, expiresAt: str, acceptedAt: strOrNull },
} as const;

const accountKeys = {
  type: 'object',
  required: ['wrappedAccountKey', 'x25519PublicKey', 'ed25519PublicKey', 'wrappedX25519Secret', 'wrappedEd25519Secret'],
  properties: { wrappedAccountKey: str, x25519PublicKey: str, ed25519PublicKey: str, wrappedX25519Secret: str, wrappedEd25519Secret: str },
} as const;

const accountResponse = {
  type: 'object',
  required: ['user', 'keys', 'teams'],
  properties: {
    session: { type: 'object', required: ['token', 'id', 'expiresAt'], properties: { token: str, id: str, expiresAt: str } },
    user: { type: 'object', required: ['id', 'email', 'name', 'createdAt'], properties: { id: str, email: str, name: str, createdAt: str } },
    keys: accountKeys,
    teams: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'personal', 'role', 'epoch', 'sealedKeys'],
        properties: {
          id: str,
          name: str,
          personal: { type: 'boolean' },
          role: str,
          epoch: int,
          sealedKeys: { type: 'array', items: { type: 'object', required: ['epoch', 'sealedKey'], properties: { epoch: int, sealedKey: str } } },
        },
      },
    },
  },
} as const;

const proof = { authKey: B64_32 } as const;

export const accountSchemas = {
  accountShow: {
    response: {
      200: {
        type: 'object',
        required: ['user', 'kdf', 'publicKeys', 'recoveryKey', 'sessions', 'endedSessions', 'invitations', 'usage', 'teams', 'workspaces', 'accessTokens'],
        properties: {
          user: {
            type: 'object',
            required: ['id', 'email', 'name', 'createdAt', 'verifiedAt', 'passwordChangedAt'],
            properties: { id: str, email: str, name: str, createdAt: str, verifiedAt: strOrNull, passwordChangedAt: strOrNull },
          },
          kdf: {
            type: 'object',
            required: ['alg', 'memoryKiB', 'iterations', 'parallelism', 'salt'],
            properties: { alg: str, memoryKiB: int, iterations: int, parallelism: int, salt: str },
          },
          publicKeys: { type: 'object', required: ['x25519PublicKey', 'ed25519PublicKey'], properties: { x25519PublicKey: str, ed25519PublicKey: str } },
          recoveryKey: { type: 'object', required: ['set', 'createdAt'], properties: { set: { type: 'boolean' }, createdAt: strOrNull } },
          sessions: { type: 'array', items: sessionView },
          endedSessions: { type: 'array', items: endedSessionView },
          invitations: { type: 'array', items: invitationView },
          usage: {
            type: 'object',
            required: ['workspaces', 'snapshots', 'blobs', 'bytes'],
            properties: { workspaces: int, snapshots: int, blobs: int, bytes: int },
          },
          teams: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'name', 'personal', 'role', 'epoch'],
              properties: { id: str, name: str, personal: { type: 'boolean' }, role: str, epoch: int },
            },
          },
          workspaces: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'teamId', 'encryptedName', 'createdAt', 'updatedAt', 'snapshots', 'blobs', 'size'],
              properties: { id: str, teamId: str, encryptedName: str, createdAt: str, updatedAt: str, snapshots: int, blobs: int, size: int },
            },
          },
          accessTokens: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'name', 'scope', 'workspaceId', 'createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt'],
              properties: { id: str, name: str, scope: str, workspaceId: str, createdAt: str, lastUsedAt: strOrNull, expiresAt: strOrNull, revokedAt: strOrNull },
            },
          },
        },
      },
      ...errors,
    },
  },
  listSessions: {
    response: { 200: { type: 'object', required: ['sessions'], properties: { sessions: { type: 'array', items: sessionView } } }, ...errors },
  },
  revokeSession: {
    params: {
      type: 'object',
      additionalProperties: false,
      required: ['sessionId'],
      properties: { sessionId: { type: 'string', pattern: ID_PATTERN } },
    },
    response: { 204: { type: 'null' }, ...errors },
  },
  changePassword: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['authKey', 'newKdf', 'newAuthKey', 'wrappedAccountKey'],
      properties: { ...proof, newKdf: kdf, newAuthKey: B64_32, wrappedAccountKey: smallCiphertext, renewSession: { type: 'boolean' } },
    },
    response: {
      200: {
        type: 'object',
        // `session` only when the request asked for it (renewSession)
        required: ['revokedSessions', 'recoveryKeyRevoked', 'liveTokens'],
        properties: {
          revokedSessions: int,
          recoveryKeyRevoked: { type: 'boolean' },
          liveTokens: { type: 'array', items: tokenInfo },
          session: accountResponse.properties.session,
        },
      },
      ...errors,
    },
  },
  setRecoveryKey: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['authKey', 'recoveryAuthKey', 'wrappedAccountKey'],
      properties: { ...proof, recoveryAuthKey: B64_32, wrappedAccountKey: smallCiphertext },
    },
    response: { 200: { type: 'object', required: ['createdAt'], properties: { createdAt: str } }, ...errors },
  },
  deleteAccount: {
    body: { type: 'object', additionalProperties: false, required: ['authKey'], properties: proof },
    response: {
      200: {
        type: 'object',
        required: ['userId', 'email', 'deletedAt', 'removed', 'backups'],
        properties: {
          userId: str,
          email: str,
          deletedAt: str,
          backups: str,
          removed: {
            type: 'object',
            required: ['account', 'sessions', 'accessTokens', 'recoveryKeys', 'memberships', 'teams', 'workspaces', 'snapshots', 'blobs', 'invitations'],
            properties: {
              account: int,
              sessions: int,
              accessTokens: int,
              recoveryKeys: int,
              memberships: int,
              teams: int,
              workspaces: int,
              snapshots: int,
              blobs: int,
              invitations: int,
            },
          },
        },
      },
      ...errors,
    },
  },
  recoverStart: {
    body: { type: 'object', additionalProperties: false, required: ['email', 'recoveryAuthKey'], properties: { email, recoveryAuthKey: B64_32 } },
    response: {
      200: {
        type: 'object',
        required: ['userId', 'wrappedAccountKeyByRecovery', 'keys'],
        properties: { userId: str, wrappedAccountKeyByRecovery: str, keys: accountKeys },
      },
      ...errors,
    },
  },
  recoverFinish: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['email', 'recoveryAuthKey', 'newKdf', 'newAuthKey', 'wrappedAccountKey'],
      properties: {
        email,
        recoveryAuthKey: B64_32,
        newKdf: kdf,
        newAuthKey: B64_32,
        wrappedAccountKey: smallCiphertext,
        client: { type: 'string', maxLength: 200 },
      },
    },
    response: {
      200: { ...accountResponse, required: [...accountResponse.required, 'revokedTokens'], properties: { ...accountResponse.properties, revokedTokens: int } },
      ...errors,
    },
  },
} as const;
