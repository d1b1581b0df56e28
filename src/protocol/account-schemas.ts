/** JSON schemas of the account-lifecycle routes (docs/protocol.md §3.22–3.29). */
import { accountKeysAnswer, accountResponse, kdf, kdfAnswer, sessionInfo } from './schemas.js';
import { tokenInfo } from './token-schemas.js';
import { ERROR_BODY_SCHEMA } from './errors.js';
import {
  b64_32,
  boolean,
  ciphertext,
  clientLabel,
  count,
  email,
  epoch,
  id,
  smallCiphertext,
  teamRole,
  text,
  textOrNull,
  time,
  timeOrNull,
  tokenScope,
} from './schema-parts.js';

const errorBody = ERROR_BODY_SCHEMA;
const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody } as const;

const sessionFields = { id, client: textOrNull, ip: textOrNull, createdAt: time, lastSeenAt: time, expiresAt: time } as const;

const sessionView = {
  type: 'object',
  required: ['id', 'client', 'ip', 'createdAt', 'lastSeenAt', 'expiresAt', 'current'],
  properties: { ...sessionFields, current: boolean },
} as const;

const endedSessionView = {
  type: 'object',
  required: ['id', 'client', 'ip', 'createdAt', 'lastSeenAt', 'expiresAt', 'revokedAt'],
  properties: { ...sessionFields, revokedAt: timeOrNull },
} as const;

const invitationView = {
  type: 'object',
  required: ['id', 'teamId', 'teamName', 'role', 'state', 'createdAt', 'expiresAt', 'acceptedAt'],
  properties: {
    id,
    teamId: id,
    teamName: text,
    role: { type: 'string', enum: ['admin', 'member'] },
    state: { type: 'string', enum: ['open', 'accepted', 'ended'] },
    createdAt: time,
    expiresAt: time,
    acceptedAt: timeOrNull,
  },
} as const;

const proof = { authKey: b64_32 } as const;

export const accountSchemas = {
  accountShow: {
    response: {
      200: {
        type: 'object',
        // endedSessions, invitations: absent from servers before them (docs/protocol.md §3.22); the client reads []
        required: ['user', 'kdf', 'publicKeys', 'recoveryKey', 'sessions', 'usage', 'teams', 'workspaces', 'accessTokens'],
        properties: {
          user: {
            type: 'object',
            required: ['id', 'email', 'name', 'createdAt', 'verifiedAt', 'passwordChangedAt'],
            properties: { id, email: text, name: text, createdAt: time, verifiedAt: timeOrNull, passwordChangedAt: timeOrNull },
          },
          kdf: kdfAnswer,
          publicKeys: { type: 'object', required: ['x25519PublicKey', 'ed25519PublicKey'], properties: { x25519PublicKey: b64_32, ed25519PublicKey: b64_32 } },
          recoveryKey: { type: 'object', required: ['set', 'createdAt'], properties: { set: boolean, createdAt: timeOrNull } },
          sessions: { type: 'array', items: sessionView },
          endedSessions: { type: 'array', items: endedSessionView },
          invitations: { type: 'array', items: invitationView },
          usage: {
            type: 'object',
            required: ['workspaces', 'snapshots', 'blobs', 'bytes'],
            properties: { workspaces: count, snapshots: count, blobs: count, bytes: count },
          },
          teams: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'name', 'personal', 'role', 'epoch'],
              properties: { id, name: text, personal: boolean, role: teamRole, epoch },
            },
          },
          workspaces: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'teamId', 'encryptedName', 'createdAt', 'updatedAt', 'snapshots', 'blobs', 'size'],
              properties: { id, teamId: id, encryptedName: ciphertext, createdAt: time, updatedAt: time, snapshots: count, blobs: count, size: count },
            },
          },
          accessTokens: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'name', 'scope', 'workspaceId', 'createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt'],
              properties: { id, name: text, scope: tokenScope, workspaceId: id, createdAt: time, lastUsedAt: timeOrNull, expiresAt: timeOrNull, revokedAt: timeOrNull },
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
      properties: { sessionId: id },
    },
    response: { 204: { type: 'null' }, ...errors },
  },
  changePassword: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['authKey', 'newKdf', 'newAuthKey', 'wrappedAccountKey'],
      properties: { ...proof, newKdf: kdf, newAuthKey: b64_32, wrappedAccountKey: smallCiphertext, renewSession: { type: 'boolean' } },
    },
    response: {
      200: {
        type: 'object',
        // `session` only when the request asked for it (renewSession); recoveryKeyRevoked and
        // liveTokens absent from servers before them (docs/protocol.md §3.25): the client reads
        // false, and "the server does not say"
        required: ['revokedSessions'],
        properties: {
          revokedSessions: count,
          recoveryKeyRevoked: boolean,
          liveTokens: { type: 'array', items: tokenInfo },
          session: sessionInfo,
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
      properties: { ...proof, recoveryAuthKey: b64_32, wrappedAccountKey: smallCiphertext },
    },
    response: { 200: { type: 'object', required: ['createdAt'], properties: { createdAt: time } }, ...errors },
  },
  deleteAccount: {
    body: { type: 'object', additionalProperties: false, required: ['authKey'], properties: proof },
    response: {
      200: {
        type: 'object',
        required: ['userId', 'email', 'deletedAt', 'removed', 'backups'],
        properties: {
          userId: id,
          email: text,
          deletedAt: time,
          backups: text,
          removed: {
            type: 'object',
            required: ['account', 'sessions', 'accessTokens', 'recoveryKeys', 'memberships', 'teams', 'workspaces', 'snapshots', 'blobs', 'invitations'],
            properties: {
              account: count,
              sessions: count,
              accessTokens: count,
              recoveryKeys: count,
              memberships: count,
              teams: count,
              workspaces: count,
              snapshots: count,
              blobs: count,
              invitations: count,
            },
          },
        },
      },
      ...errors,
    },
  },
  recoverStart: {
    body: { type: 'object', additionalProperties: false, required: ['email', 'recoveryAuthKey'], properties: { email, recoveryAuthKey: b64_32 } },
    response: {
      200: {
        type: 'object',
        required: ['userId', 'wrappedAccountKeyByRecovery', 'keys'],
        properties: { userId: id, wrappedAccountKeyByRecovery: ciphertext, keys: accountKeysAnswer },
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
        recoveryAuthKey: b64_32,
        newKdf: kdf,
        newAuthKey: b64_32,
        wrappedAccountKey: smallCiphertext,
        client: clientLabel,
      },
    },
    response: {
      // revokedTokens: absent from servers before a recovery revoked tokens
      200: { ...accountResponse, properties: { ...accountResponse.properties, revokedTokens: count } },
      ...errors,
    },
  },
} as const;
