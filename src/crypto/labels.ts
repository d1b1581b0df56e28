/**
 * Every domain-separation string of the format, in one place. The `v1` in each label is the
 * format version; a new format gets new labels rather than reusing these for something else.
 * docs/crypto.md is the normative list.
 */

/** First byte of every envelope. Selects XChaCha20-Poly1305 and the v1 AAD encoding. */
export const ENVELOPE_VERSION = 1;

export const LABELS = {
  /** HKDF info: master key → key sent to the server at login */
  authKey: 'insomnia-sync/v1/auth-key',
  /** HKDF info: master key → key that wraps the account key */
  wrapKey: 'insomnia-sync/v1/wrap-key',
  /** HKDF info: workspace key → HMAC key naming blobs */
  blobId: 'insomnia-sync/v1/blob-id',
  /** HKDF info: workspace key → key encrypting blobs */
  blobKey: 'insomnia-sync/v1/blob-key',
  /** HKDF info: workspace key → key encrypting snapshots (manifests) */
  manifestKey: 'insomnia-sync/v1/manifest-key',
  /** HKDF info: workspace key → key encrypting the workspace name */
  nameKey: 'insomnia-sync/v1/name-key',
  /** HKDF info: X25519 shared secret → sealed-box key */
  seal: 'insomnia-sync/v1/seal',
  /** prefix of the message an author signs for a snapshot */
  snapshotSignature: 'insomnia-sync/v1/snapshot-signature',
  /** prefix hashed with the public keys to form a fingerprint */
  fingerprint: 'insomnia-sync/v1/fingerprint',
  /** prefix of every envelope's associated data */
  aad: 'insomnia-sync/v1/aad',
  /** HKDF info: recovery key → value the server checks before handing out the recovery-wrapped account key */
  recoveryAuthKey: 'insomnia-sync/v1/recovery-auth-key',
  /** HKDF info: recovery key → key that wraps the account key (slot kind `recovery`) */
  recoveryWrapKey: 'insomnia-sync/v1/recovery-wrap-key',
  /** prefix of the message a member signs to certify an access token's key */
  tokenCertificate: 'insomnia-sync/v1/token-certificate',
  /** prefix of the message a member signs when handing a team key to another (crypto/team-grant.ts) */
  teamKeyGrant: 'insomnia-sync/v1/team-key-grant',
  /** HKDF info: account key → the id of the account's personal team (crypto/team-grant.ts) */
  personalTeamId: 'insomnia-sync/v1/personal-team-id',
} as const;

export type LabelName = keyof typeof LABELS;

export const LABEL_AUTH_KEY = LABELS.authKey;
export const LABEL_WRAP_KEY = LABELS.wrapKey;
export const LABEL_BLOB_ID = LABELS.blobId;
export const LABEL_BLOB_KEY = LABELS.blobKey;
export const LABEL_MANIFEST_KEY = LABELS.manifestKey;
export const LABEL_NAME_KEY = LABELS.nameKey;
export const LABEL_SEAL = LABELS.seal;
export const LABEL_SNAPSHOT_SIGNATURE = LABELS.snapshotSignature;
export const LABEL_FINGERPRINT = LABELS.fingerprint;
export const LABEL_AAD = LABELS.aad;
