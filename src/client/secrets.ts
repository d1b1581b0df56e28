/**
 * The local secret store: one file per profile holding the session token and the unwrapped account
 * key and identity secrets, so everyday commands need no password. Mode 0600 in a 0700 folder,
 * written atomically (temp + rename); `logout` and `account delete` remove it.
 */
import { readFileSync, writeFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from './config.js';

export interface SessionSecrets {
  version: 1;
  server: string;
  userId: string;
  email: string;
  name: string;
  sessionId: string;
  sessionToken: string;
  /** base64url */
  accountKey: string;
  x25519Secret: string;
  ed25519Secret: string;
  /**
   * Public halves, derived from the secrets above when stored. Not read back: requireSession
   * derives them again (own-keys.ts), since a session stored by an older signup may hold the
   * server's unchecked copy here. Still written, for clients that do read them.
   */
  x25519Public: string;
  ed25519Public: string;
}

export class SecretStore {
  constructor(private readonly configDir: string, private readonly profile: string) {}

  private get file(): string {
    return path.join(this.configDir, 'sessions', `${this.profile}.json`);
  }

  read(): SessionSecrets | null {
    if (!existsSync(this.file)) return null;
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as SessionSecrets;
      if (parsed.version !== 1 || typeof parsed.sessionToken !== 'string' || typeof parsed.ed25519Public !== 'string') return null;
      return parsed;
    } catch {
      return null;
    }
  }

  write(secrets: SessionSecrets): void {
    ensurePrivateDir(this.configDir);
    ensurePrivateDir(path.dirname(this.file));
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(secrets), { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  wipe(): boolean {
    const had = existsSync(this.file);
    rmSync(this.file, { force: true });
    return had;
  }
}
