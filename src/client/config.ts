/**
 * Local state of the CLI under the config directory (SPEC §4): `INSOMNIA_SYNC_CONFIG_DIR`, else the
 * platform's config dir as `conf` finds it. Folder 0700, files 0600.
 * - config.json (conf): per-profile settings that are not secret (server, email)
 * - sessions/<profile>.json: the session token and unwrapped keys (see secrets.ts)
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { tightenPrivate } from './private-files.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8787';
export const DEFAULT_PROFILE = 'default';

export interface ProfileConfig {
  server?: string;
  email?: string;
}

export interface ConfigStore {
  readonly dir: string;
  getProfile(name: string): ProfileConfig;
  setProfile(name: string, profile: ProfileConfig): void;
}

const PROFILE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function checkProfileName(name: string): string {
  if (!PROFILE_NAME.test(name)) throw new Error(`invalid profile name: ${name}`);
  return name;
}

/** The config directory, without loading `conf` (which costs ~100 ms with its schema validator). */
export async function configDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const explicit = env.INSOMNIA_SYNC_CONFIG_DIR;
  if (explicit) return path.resolve(explicit);
  // The same place conf would choose, so both agree.
  const { default: envPaths } = await import('env-paths');
  return envPaths('insomnia-sync', { suffix: '' }).config;
}

/** Opened only by commands that read or write profile settings. */
export async function openConfig(dir: string): Promise<ConfigStore> {
  ensurePrivateDir(dir);
  const { default: Conf } = await import('conf');
  const conf = new Conf<{ profiles: Record<string, ProfileConfig> }>({
    projectName: 'insomnia-sync',
    configName: 'config',
    cwd: dir,
    configFileMode: 0o600,
    defaults: { profiles: {} },
  });
  return {
    dir,
    getProfile(name) {
      return conf.get('profiles')[name] ?? {};
    },
    setProfile(name, profile) {
      conf.set('profiles', { ...conf.get('profiles'), [name]: profile });
    },
  };
}

/**
 * Makes `dir` (0700) if it is missing, and takes group and other bits off it if it has any (see
 * private-files.ts); a folder already private is left as it is.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  tightenPrivate([dir]);
}
