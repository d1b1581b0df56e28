/**
 * What every manifest layout shares (sync/manifest.ts): the manifest's shape, and the rules for
 * every field but the file list, whose rules are the file columns' (sync/file-columns.ts).
 */
import { LIMITS } from '../protocol/types.js';
import { checkExactKeys, isB64url32, isHexId32, isHexId64 } from './checks.js';

export interface ManifestFile {
  /** workspace-relative, '/'-separated, Unicode NFC; see validatePath */
  path: string;
  /** 0o644 or 0o755: only the executable bit is kept */
  mode: number;
  size: number;
  /** blob ids (64 hex) of the CHUNK_SIZE chunks in order; [] for an empty file */
  chunks: string[];
}

export interface Manifest {
  version: 1;
  /** 32 hex */
  workspaceId: string;
  /** snapshot id (64 hex) this one follows, null for the first */
  parent: string | null;
  /** key epoch of the team when the snapshot was made */
  epoch: number;
  author: {
    /** 32 hex */
    userId: string;
    name: string;
    email: string;
    /** the author's Ed25519 public key, base64url (32 bytes) */
    signingKey: string;
  };
  /** ISO 8601 as Date.prototype.toISOString writes it */
  time: string;
  message: string;
  /** sorted by path, unique */
  files: ManifestFile[];
}

export class ManifestError extends Error {
  readonly code = 'bad_manifest';
  override readonly name = 'ManifestError';
}

export const MANIFEST_VERSION = 1;
/** Commit messages are free text, but not unbounded. */
export const MAX_MESSAGE_CHARS = 65_536;

export const TOP_KEYS = ['version', 'workspaceId', 'parent', 'epoch', 'author', 'time', 'message', 'files'] as const;
export const AUTHOR_KEYS = ['userId', 'name', 'email', 'signingKey'] as const;
/** The fields of the head, the manifest without its file list, in canonical order. */
export const HEAD_KEYS = ['version', 'workspaceId', 'parent', 'epoch', 'author', 'time', 'message'] as const;

// Names and emails are shown in `log`; control characters there could drive the terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Messages may span lines, nothing else. Read as older clients wrote them: a carriage return
// passes (`log` shows such a message quoted and escaped); a new one is held to newMessageProblem.
const MESSAGE_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// A new message: newlines and tabs, no other control (a carriage return or an escape would
// overwrite what a terminal shows), nor a bidirectional override (it reorders what is read).
const NEW_MESSAGE_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** What is wrong with a message for a new snapshot (`push -m`), or null: stricter than reading. */
export function newMessageProblem(message: string): string | null {
  if (message.length > MAX_MESSAGE_CHARS) return `a message has at most ${MAX_MESSAGE_CHARS} characters, not ${message.length}`;
  const bad = NEW_MESSAGE_UNSAFE.exec(message)?.[0];
  if (bad === undefined) return null;
  const code = `U+${bad.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return bad >= '\u202a'
    ? `the message holds ${code}, a bidirectional override`
    : `the message holds ${code}${bad === '\r' ? ' (a carriage return)' : bad === '\u001b' ? ' (an escape)' : ''}, a control character: only newlines and tabs may be in it`;
}

function isIsoTime(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const t = Date.parse(v);
  return Number.isFinite(t) && new Date(t).toISOString() === v;
}

export const fileWhere = (i: number): string => `manifest.files[${i}]`;

/** The first rule broken by anything but the file list (which `keys` may leave out), or null. */
export function checkManifestHead(m: unknown, keys: readonly string[] = TOP_KEYS): string | null {
  const top = checkExactKeys(m, keys, () => 'manifest');
  if (top !== null) return top;
  const o = m as Record<string, unknown>;
  if (o.version !== MANIFEST_VERSION) return `manifest.version must be ${MANIFEST_VERSION}`;
  if (!isHexId32(o.workspaceId)) return 'manifest.workspaceId is not a 32-hex id';
  if (o.parent !== null && !isHexId64(o.parent)) return 'manifest.parent is not a 64-hex snapshot id or null';
  if (typeof o.epoch !== 'number' || !Number.isSafeInteger(o.epoch) || o.epoch < 1) {
    return 'manifest.epoch must be a positive integer';
  }
  const authorKeys = checkExactKeys(o.author, AUTHOR_KEYS, () => 'manifest.author');
  if (authorKeys !== null) return authorKeys;
  const a = o.author as Record<string, unknown>;
  if (!isHexId32(a.userId)) return 'manifest.author.userId is not a 32-hex id';
  if (typeof a.name !== 'string' || a.name.length > LIMITS.maxNameChars || CONTROL.test(a.name)) {
    return `manifest.author.name must be a string of at most ${LIMITS.maxNameChars} characters without control characters`;
  }
  if (typeof a.email !== 'string' || a.email.length > LIMITS.maxEmailChars || CONTROL.test(a.email)) {
    return `manifest.author.email must be a string of at most ${LIMITS.maxEmailChars} characters without control characters`;
  }
  if (!isB64url32(a.signingKey)) return 'manifest.author.signingKey is not a base64url 32-byte key';
  if (!isIsoTime(o.time)) return 'manifest.time is not an ISO 8601 UTC time as toISOString writes it';
  if (typeof o.message !== 'string' || o.message.length > MAX_MESSAGE_CHARS || MESSAGE_CONTROL.test(o.message)) {
    return `manifest.message must be a string of at most ${MAX_MESSAGE_CHARS} characters without control characters other than tab and newlines`;
  }
  return null;
}

/** The head's fields and author copied into canonical key order (no `files`). */
export function canonicalHead(m: Omit<Manifest, 'files'>): Omit<Manifest, 'files'> {
  return {
    version: m.version,
    workspaceId: m.workspaceId,
    parent: m.parent,
    epoch: m.epoch,
    author: {
      userId: m.author.userId,
      name: m.author.name,
      email: m.author.email,
      signingKey: m.author.signingKey,
    },
    time: m.time,
    message: m.message,
  };
}

/** True when the object's own keys are exactly `keys`, in that order. */
export function hasKeysInOrder(v: object, keys: readonly string[]): boolean {
  const own = Object.keys(v);
  if (own.length !== keys.length) return false;
  for (let i = 0; i < own.length; i++) if (own[i] !== keys[i]) return false;
  return true;
}

