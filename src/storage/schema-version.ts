/**
 * What both backends check before they use or migrate a database: that its schema is not newer
 * than the code (an older server on a database a newer one migrated would misread it, and its gc
 * could delete what new tables reference), and that each migration it records applying is the one
 * the code has (an edited migration would leave the database without what the code expects, found
 * only later as "no such column" in some request). Each applied migration's row in
 * schema_migrations carries the sha256 of the migration's text; rows from before there was such a
 * column get the checksum of this build's text when the column is added (nothing else to go on).
 */
import { createHash } from 'node:crypto';

/** sha256 (hex) of a migration's text, exactly as the code holds it. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** The database's schema is not what this build can use; nothing was changed. */
export class SchemaMismatchError extends Error {
  readonly code = 'schema_mismatch';
}

export interface AppliedMigration {
  version: number;
  /** null: applied before checksums were recorded */
  checksum: string | null;
}

/** Throws SchemaMismatchError for a version newer than `migrations`, or a recorded checksum that differs. */
export function checkAppliedMigrations(applied: readonly AppliedMigration[], migrations: readonly string[]): void {
  const known = migrations.length;
  const newest = applied.reduce((max, m) => Math.max(max, m.version), 0);
  if (newest > known) {
    throw new SchemaMismatchError(
      `the database schema is version ${newest}, newer than this server's (version ${known}): a newer insomnia-sync-server migrated it; run that version or a later one (or restore a backup taken before the upgrade)`,
    );
  }
  for (const m of [...applied].sort((a, b) => a.version - b.version)) {
    if (m.version < 1) continue;
    const expected = migrationChecksum(migrations[m.version - 1]!);
    if (m.checksum !== null && m.checksum !== expected) {
      throw new SchemaMismatchError(
        `migration ${m.version} applied to the database (sha256 ${m.checksum.slice(0, 12)}) differs from this server's migration ${m.version} (sha256 ${expected.slice(0, 12)}): the database was made by another build of insomnia-sync-server; run that build, or restore a backup`,
      );
    }
  }
}
