/**
 * The local secret store: one file per profile holding the session token and the unwrapped account
 * key and identity secrets, so everyday commands need no password. Mode 0600 in a 0700 folder,
 * written atomically (temp + rename); `logout` and `account delete` remove it. A session file (or
 * a folder above it in the config directory) that other users may read is made private before it
 * is read, with one warning; one that cannot be is refused (private-files.ts).
 */
import { readFileSync, readdirSync, writeFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import path from 'node:path';
import { checkProfileName, ensurePrivateDir } from './config.js';
import { SyncError } from './errors.js';
import { describeTightened, fsReason, tightenPrivate } from './private-files.js';

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

  /**
   * The profiles of this config folder that have a session file, this one included, by name
   * (sorted). A missing or unreadable sessions folder has none.
   */
  profiles(): string[] {
    let names: string[];
    try {
      names = readdirSync(path.dirname(this.file));
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -'.json'.length))
      .filter((p) => {
        try {
          return checkProfileName(p) === p;
        } catch {
          return false;
        }
      })
      .sort();
  }

  /** The session file of this profile (it may not exist). */
  get file(): string {
    return path.join(this.configDir, 'sessions', `${this.profile}.json`);
  }

  /**
   * The profile's session, or null. `toEnd`: for logout, which ends the session and removes the
   * file; a file that cannot be made private is read all the same, since ending what it holds is
   * the remedy.
   */
  read(opts: { toEnd?: boolean } = {}): SessionSecrets | null {
    if (!existsSync(this.file)) return null;
    // before a byte is read: not from a file others can read, nor through folders they can
    let tightened: ReturnType<typeof tightenPrivate> = [];
    try {
      tightened = tightenPrivate([this.file, path.dirname(this.file), this.configDir]);
    } catch (err) {
      if (!opts.toEnd) throw err;
    }
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

  /**
   * That a session can be written here, checked before anything is sent to a server (signup,
   * login, recover): the config folder and its sessions folder are folders (made, 0700, if
   * missing) and take a file. A scratch file is written and removed in each, as root ignores
   * permission bits and only a write tells a read-only file system.
   */
  checkWritable(): void {
    const sessions = path.dirname(this.file);
    for (const dir of [this.configDir, sessions]) {
      ensurePrivateDir(dir);
      const scratch = path.join(dir, `.write-check.${process.pid}.tmp`);
      try {
        writeFileSync(scratch, '', { mode: 0o600 });
        rmSync(scratch, { force: true });
      } catch (err) {
        throw cannotWrite(dir, err);
      }
    }
  }

  write(secrets: SessionSecrets): void {
    ensurePrivateDir(this.configDir);
    ensurePrivateDir(path.dirname(this.file));
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(secrets), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw cannotWrite(path.dirname(this.file), err);
    }
  }

  wipe(): boolean {
    const had = existsSync(this.file);
    rmSync(this.file, { force: true });
    return had;
  }
}

/** One line naming the folder and the reason, with what to do (exit 1, as `init` says for its folder). */
export function cannotWrite(dir: string, err: unknown): SyncError {
  return new SyncError(
    'local_write',
    `cannot write ${dir} (${fsReason(err)})`,
    'make it writable, or point INSOMNIA_SYNC_CONFIG_DIR at a folder you can write',
  );
}
