/** JSON schemas of the access-token routes (docs/protocol.md §3.19–3.21), in the style of schemas.ts. */
import { ERROR_BODY_SCHEMA } from './errors.js';
import { B64URL, b64_32, b64_64, boolean, epoch, id, text, time, timeOrNull, tokenScope as scope } from './schema-parts.js';

export const MAX_TOKEN_NAME_CHARS = 100;

const errorBody = ERROR_BODY_SCHEMA;
const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody } as const;

export const tokenInfo = {
  type: 'object',
  // keyEpoch: absent from servers before it was added
  required: ['id', 'workspaceId', 'name', 'scope', 'createdBy', 'createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt'],
  properties: {
    id,
    workspaceId: id,
    name: text,
    scope,
    createdBy: {
      type: 'object',
      required: ['userId', 'email', 'name'],
      properties: { userId: id, email: text, name: text },
    },
    createdAt: time,
    lastUsedAt: timeOrNull,
    expiresAt: timeOrNull,
    revokedAt: timeOrNull,
    keyEpoch: epoch,
  },
} as const;

/** Member-route answer part: token keys and certificates (see TokenSignerInfo). */
export const tokenSignerInfo = {
  type: 'object',
  required: ['id', 'name', 'scope', 'createdBy', 'publicKey', 'certificate', 'revoked'],
  properties: {
    id,
    name: text,
    scope,
    createdBy: id,
    publicKey: b64_32,
    certificate: b64_64,
    revoked: boolean,
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
