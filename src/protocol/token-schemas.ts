/** JSON schemas of the access-token routes (docs/protocol.md §3.19–3.21), in the style of schemas.ts. */
import { ID_PATTERN } from './types.js';
import { ERROR_BODY_SCHEMA } from './errors.js';

const B64URL = '^[A-Za-z0-9_-]*$';
const id = { type: 'string', pattern: ID_PATTERN } as const;
const b64_32 = { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } as const;
const b64_64 = { type: 'string', pattern: '^[A-Za-z0-9_-]{86}$' } as const;
const epoch = { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 } as const;
const scope = { type: 'string', enum: ['read', 'write'] } as const;
const nullableTime = { type: ['string', 'null'] } as const;

export const MAX_TOKEN_NAME_CHARS = 100;

const errorBody = ERROR_BODY_SCHEMA;
const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody } as const;

export const tokenInfo = {
  type: 'object',
  required: ['id', 'workspaceId', 'name', 'scope', 'createdBy', 'createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt', 'keyEpoch'],
  properties: {
    id: { type: 'string' },
    workspaceId: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string' },
    createdBy: {
      type: 'object',
      required: ['userId', 'email', 'name'],
      properties: { userId: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' } },
    },
    createdAt: { type: 'string' },
    lastUsedAt: nullableTime,
    expiresAt: nullableTime,
    revokedAt: nullableTime,
    keyEpoch: { type: 'integer' },
  },
} as const;

/** Member-route answer part: token keys and certificates (see TokenSignerInfo). */
export const tokenSignerInfo = {
  type: 'object',
  required: ['id', 'name', 'scope', 'createdBy', 'publicKey', 'certificate', 'revoked'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string' },
    createdBy: { type: 'string' },
    publicKey: { type: 'string' },
    certificate: { type: 'string' },
    revoked: { type: 'boolean' },
  },
} as const;

export const tokenSchemas = {
  createToken: {
    params: { type: 'object', additionalProperties: false, required: ['workspaceId'], properties: { workspaceId: id } },
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'scope', 'secretHash', 'expiresAt', 'publicKey', 'certificate', 'keys'],
      properties: {
        id,
        name: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_NAME_CHARS },
        scope,
        secretHash: b64_32,
        expiresAt: { type: ['string', 'null'], maxLength: 40 },
        publicKey: b64_32,
        certificate: b64_64,
        keys: {
          type: 'array',
          minItems: 1,
          maxItems: 1000,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['epoch', 'wrappedKey'],
            properties: { epoch, wrappedKey: { type: 'string', pattern: B64URL, minLength: 1, maxLength: 4096 } },
          },
        },
      },
    },
    response: { 200: tokenInfo, ...errors },
  },
  listTokens: {
    querystring: { type: 'object', additionalProperties: false, properties: { workspaceId: id } },
    response: { 200: { type: 'object', required: ['tokens'], properties: { tokens: { type: 'array', items: tokenInfo } } }, ...errors },
  },
  revokeToken: {
    params: { type: 'object', additionalProperties: false, required: ['tokenId'], properties: { tokenId: id } },
    response: { 200: tokenInfo, ...errors },
  },
} as const;
