/** JSON schemas of the team routes (docs/protocol.md §3.30–3.38), in the style of schemas.ts. */
import { LIMITS } from './types.js';
import { ERROR_BODY_SCHEMA } from './errors.js';
import { b64_32, boolean, count, epoch, id, smallCiphertext as sealed, teamRole, text, time } from './schema-parts.js';

const code = { type: 'string', minLength: 1, maxLength: 64 } as const;
const invitedRole = { type: 'string', enum: ['admin', 'member'] } as const;
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

const invitationInfo = { email: text, role: invitedRole, createdAt: time, expiresAt: time } as const;

const teamSummary = {
  type: 'object',
  required: ['id', 'name', 'personal', 'epoch', 'rotationPending'],
  properties: { id, name: text, personal: boolean, epoch, rotationPending: boolean },
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
                userId: id,
                email: text,
                name: text,
                x25519PublicKey: b64_32,
                ed25519PublicKey: b64_32,
                role: teamRole,
                status: { type: 'string', enum: ['confirmed', 'accepted'] },
                joinedAt: time,
              },
            },
          },
          invitations: {
            type: 'array',
            items: {
              type: 'object',
              required: ['email', 'role', 'createdAt', 'expiresAt'],
              properties: invitationInfo,
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
        role: invitedRole,
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['invited', 'failed'],
        properties: {
          invited: { type: 'array', items: { type: 'object', required: ['email', 'expiresAt'], properties: { email: text, expiresAt: time } } },
          failed: { type: 'array', items: { type: 'object', required: ['email', 'reason'], properties: { email: text, reason: text } } },
        },
      },
      ...errors,
    },
  },
  withdrawInvitation: {
    params: teamParams,
    body: { type: 'object', additionalProperties: false, required: ['email'], properties: { email: { type: 'string', maxLength: LIMITS.maxEmailChars + 16 } } },
    response: {
      200: { type: 'object', required: ['email', 'role', 'createdAt', 'expiresAt'], properties: invitationInfo },
      ...errors,
    },
  },
  acceptInvitation: {
    body: { type: 'object', additionalProperties: false, required: ['code'], properties: { code } },
    response: {
      200: { type: 'object', required: ['teamId', 'teamName', 'role'], properties: { teamId: id, teamName: text, role: teamRole } },
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
    response: { 200: { type: 'object', required: ['epoch'], properties: { epoch } }, ...errors },
  },
  rotateTeam: {
    params: teamParams,
    body: rotateBody,
    response: { 200: { type: 'object', required: ['epoch'], properties: { epoch } }, ...errors },
  },
  leaveTeam: {
    params: teamParams,
    body: { type: 'object', additionalProperties: false, properties: {} },
    response: { 200: { type: 'object', required: ['rotationPending'], properties: { rotationPending: boolean } }, ...errors },
  },
  deleteTeam: {
    params: teamParams,
    response: {
      200: {
        type: 'object',
        required: ['teamId', 'name', 'deletedAt', 'removed'],
        properties: {
          teamId: id,
          name: text,
          deletedAt: time,
          removed: {
            type: 'object',
            required: ['workspaces', 'snapshots', 'blobs', 'memberships', 'accessTokens', 'invitations'],
            properties: {
              workspaces: count,
              snapshots: count,
              blobs: count,
              memberships: count,
              accessTokens: count,
              invitations: count,
            },
          },
        },
      },
      ...errors,
    },
  },
  setMemberRole: {
    params: memberParams,
    body: { type: 'object', additionalProperties: false, required: ['role'], properties: { role: teamRole } },
    response: {
      200: {
        type: 'object',
        required: ['role', 'previous'],
        properties: { role: teamRole, previous: teamRole },
      },
      ...errors,
    },
  },
  verifyEmail: {
    body: { type: 'object', additionalProperties: false, properties: { code, resend: { type: 'boolean' } } },
    response: { 204: { type: 'null' }, ...errors },
  },
} as const;
