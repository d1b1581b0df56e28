/**
 * The local secret store: one file per profile holding the session token and the unwrapped account
 * key and identity secrets, so everyday commands need no password. Mode 0600 in a 0700 folder,
 * written atomically (temp + rename); `logout` and `account delete` remove it. A session file (or
 * a folder above it in the config directory) that other users may read is made private before it
 * is read, with one warning; one that cannot be is refused (private-files.ts).
 */
import { readFileSync, writeFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from './config.js';
import { describeTightened, tightenPrivate } from './private-files.js';

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
  /**
   * `warn` gets one line when a session file or its folders were open to other users and were
   * made private (the CLI prints it on standard error).
   */
  constructor(
    private readonly configDir: string,
    private readonly profile: string,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /** The same store for another profile. */
  forProfile(profile: string): SecretStore {
    return new SecretStore(this.configDir, profile, this.warn);
  }

  /** The session file of this profile (it may not exist). */
  get file(): string {
    return path.join(this.configDir, 'sessions', `${this.profile}.json`);
  }

  read(): SessionSecrets | null {
    if (!existsSync(this.file)) return null;
    // before a byte is read: not from a file others can read, nor through folders they can
    const tightened = tightenPrivate([this.file, path.dirname(this.file), this.configDir]);
    if (tightened.length > 0) {
      const copied = tightened.some((t) => t.path === this.file && (t.was & 0o044) !== 0);
      this.warn(describeTightened(tightened) + (copied ? '; if someone may have copied it, log in again: that ends the copied session' : ''));
    }
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
