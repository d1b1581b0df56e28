/** JSON schemas of the team routes (docs/protocol.md §3.30–3.38), in the style of schemas.ts. */
import { ID_PATTERN, LIMITS } from './types.js';
import { ERROR_BODY_SCHEMA } from './errors.js';

const B64URL = '^[A-Za-z0-9_-]*$';
const id = { type: 'string', pattern: ID_PATTERN } as const;
const epoch = { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 } as const;
const sealed = { type: 'string', pattern: B64URL, minLength: 1, maxLength: 4096 } as const;
const str = { type: 'string' } as const;
const code = { type: 'string', minLength: 1, maxLength: 64 } as const;
export const MAX_TEAM_NAME_CHARS = 100;
export const MAX_INVITES_PER_REQUEST = 100;

const errorBody = ERROR_BODY_SCHEMA;
const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody } as const;

const teamParams = { type: 'object', additionalProperties: false, required: ['teamId'], properties: { teamId: id } } as const;
const memberParams = {
  type: 'object',
  additionalProperties: false,
  required: ['teamId', 'userId'],
  properties: { teamId: id, userId: id },
} as const;

const rotateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['epoch', 'sealedKeys', 'workspaceKeys'],
  properties: {
    epoch,
    sealedKeys: {
      type: 'array',
      maxItems: 10_000,
      items: { type: 'object', additionalProperties: false, required: ['userId', 'sealedKey'], properties: { userId: id, sealedKey: sealed } },
    },
    workspaceKeys: {
      type: 'array',
      maxItems: 10_000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['workspaceId', 'wrappedKey'],
        properties: { workspaceId: id, wrappedKey: sealed },
      },
    },
  },
} as const;

const teamSummary = {
  type: 'object',
  required: ['id', 'name', 'personal', 'epoch', 'rotationPending'],
  properties: { id: str, name: str, personal: { type: 'boolean' }, epoch: { type: 'integer' }, rotationPending: { type: 'boolean' } },
} as const;

export const teamSchemas = {
  createTeam: {
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'sealedTeamKey'],
      properties: { id, name: { type: 'string', minLength: 1, maxLength: MAX_TEAM_NAME_CHARS }, sealedTeamKey: sealed },
    },
    response: { 200: teamSummary, ...errors },
  },
  teamMembers: {
    params: teamParams,
    response: {
      200: {
        type: 'object',
        required: ['team', 'members', 'invitations'],
        properties: {
          team: teamSummary,
          members: {
            type: 'array',
            items: {
              type: 'object',
              required: ['userId', 'email', 'name', 'x25519PublicKey', 'ed25519PublicKey', 'role', 'status', 'joinedAt'],
              properties: {
                userId: str,
                email: str,
                name: str,
                x25519PublicKey: str,
                ed25519PublicKey: str,
                role: str,
                status: str,
                joinedAt: str,
              },
            },
          },
          invitations: {
            type: 'array',
            items: {
              type: 'object',
              required: ['email', 'role', 'createdAt', 'expiresAt'],
              properties: { email: str, role: str, createdAt: str, expiresAt: str },
            },
          },
        },
      },
      ...errors,
    },
  },
  inviteMembers: {
    params: teamParams,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['emails', 'role'],
      properties: {
        emails: { type: 'array', minItems: 1, maxItems: MAX_INVITES_PER_REQUEST, items: { type: 'string', maxLength: LIMITS.maxEmailChars + 16 } },
        role: { type: 'string', enum: ['admin', 'member'] },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['invited', 'failed'],
        properties: {
          invited: { type: 'array', items: { type: 'object', required: ['email', 'expiresAt'], properties: { email: str, expiresAt: str } } },
          failed: { type: 'array', items: { type: 'object', required: ['email', 'reason'], properties: { email: str, reason: str } } },
        },
      },
      ...errors,
    },
  },
  withdrawInvitation: {
    params: teamParams,
    body: { type: 'object', additionalProperties: false, required: ['email'], properties: { email: { type: 'string', maxLength: LIMITS.maxEmailChars + 16 } } },
    response: {
      200: { type: 'object', required: ['email', 'role', 'createdAt', 'expiresAt'], properties: { email: str, role: str, createdAt: str, expiresAt: str } },
      ...errors,
    },
  },
  acceptInvitation: {
    body: { type: 'object', additionalProperties: false, required: ['code'], properties: { code } },
    response: {
      200: { type: 'object', required: ['teamId', 'teamName', 'role'], properties: { teamId: str, teamName: str, role: str } },
      ...errors,
    },
  },
  confirmMember: {
    params: memberParams,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['sealedKeys'],
      properties: {
        sealedKeys: {
          type: 'array',
          minItems: 1,
          maxItems: 10_000,
          items: { type: 'object', additionalProperties: false, required: ['epoch', 'sealedKey'], properties: { epoch, sealedKey: sealed } },
        },
      },
    },
    response: { 204: { type: 'null' }, ...errors },
  },
  removeMember: {
    params: memberParams,
    // keys left out: the member never held one (the route checks)
    body: { ...rotateBody, required: ['epoch'] },
    response: { 200: { type: 'object', required: ['epoch'], properties: { epoch: { type: 'integer' } } }, ...errors },
  },
  rotateTeam: {
    params: teamParams,
    body: rotateBody,
    response: { 200: { type: 'object', required: ['epoch'], properties: { epoch: { type: 'integer' } } }, ...errors },
  },
  leaveTeam: {
    params: teamParams,
    body: { type: 'object', additionalProperties: false, properties: {} },
    response: { 200: { type: 'object', required: ['rotationPending'], properties: { rotationPending: { type: 'boolean' } } }, ...errors },
  },
  deleteTeam: {
    params: teamParams,
    response: {
      200: {
        type: 'object',
        required: ['teamId', 'name', 'deletedAt', 'removed'],
        properties: {
          teamId: str,
          name: str,
          deletedAt: str,
          removed: {
            type: 'object',
            required: ['workspaces', 'snapshots', 'blobs', 'memberships', 'accessTokens', 'invitations'],
            properties: {
              workspaces: { type: 'integer' },
              snapshots: { type: 'integer' },
              blobs: { type: 'integer' },
              memberships: { type: 'integer' },
              accessTokens: { type: 'integer' },
              invitations: { type: 'integer' },
            },
          },
        },
      },
      ...errors,
    },
  },
  setMemberRole: {
    params: memberParams,
    body: { type: 'object', additionalProperties: false, required: ['role'], properties: { role: { type: 'string', enum: ['owner', 'admin', 'member'] } } },
    response: {
      200: {
        type: 'object',
        required: ['role', 'previous'],
        properties: { role: { type: 'string', enum: ['owner', 'admin', 'member'] }, previous: { type: 'string', enum: ['owner', 'admin', 'member'] } },
      },
      ...errors,
    },
  },
  verifyEmail: {
    body: { type: 'object', additionalProperties: false, properties: { code, resend: { type: 'boolean' } } },
    response: { 204: { type: 'null' }, ...errors },
  },
} as const;
