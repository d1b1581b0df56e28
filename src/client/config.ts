/**
 * Local state of the CLI under the config directory (SPEC §4): `INSOMNIA_SYNC_CONFIG_DIR`, else the
 * platform's config dir as `conf` finds it. Folder 0700, files 0600.
 * - config.json (conf): per-profile settings that are not secret (server, email)
 * - sessions/<profile>.json: the session token and unwrapped keys (see secrets.ts)
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { SyncError, UsageError } from './errors.js';
import { fsReason, tightenPrivate } from './private-files.js';

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

/**
 * Opened only by commands that read or write profile settings. The file is checked before `conf`
 * reads it, so that a damaged one is named, once, with what to do (exit 1, as a damaged link.json
 * or known-keys.json is) rather than as a bare JSON parser error, and before anything is sent.
 */
export async function openConfig(dir: string): Promise<ConfigStore> {
  ensurePrivateDir(dir);
  const file = path.join(dir, 'config.json');
  checkConfigFile(file);
  const { default: Conf } = await import('conf');
  let conf: InstanceType<typeof Conf<{ profiles: Record<string, ProfileConfig> }>>;
  try {
    conf = new Conf<{ profiles: Record<string, ProfileConfig> }>({
      projectName: 'insomnia-sync',
      configName: 'config',
      cwd: dir,
      configFileMode: 0o600,
      defaults: { profiles: {} },
    });
  } catch (err) {
    // conf writes the defaults into a new or partial file at once
    throw new SyncError('local_write', `cannot write ${file} (${fsReason(err)})`, 'make the folder writable, or point INSOMNIA_SYNC_CONFIG_DIR at a folder you can write');
  }
  return {
    dir,
    getProfile(name) {
      return conf.get('profiles')[name] ?? {};
    },
    setProfile(name, profile) {
      try {
        conf.set('profiles', { ...conf.get('profiles'), [name]: profile });
      } catch (err) {
        throw new SyncError('local_write', `cannot write ${file} (${fsReason(err)})`, 'make it and its folder writable');
      }
    },
  };
}

/** config.json, if there is one, is a JSON object whose `profiles` maps names to { server?, email? }. */
function checkConfigFile(file: string): void {
  if (!existsSync(file)) return;
  const damaged = (why: string): SyncError =>
    new SyncError('bad_state', `${file} ${why}`, "fix it, or move it away: it holds only each profile's server and email, which the next login writes again");
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw damaged(`cannot be read (${fsReason(err)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // the parser's message quotes the file: name the fault instead
    throw damaged(/end of JSON input/.test((err as Error).message) ? 'ends too early (cut short?): it is not valid JSON' : 'is not valid JSON');
  }
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const profiles = isObject(parsed) ? parsed.profiles : undefined;
  const valid =
    isObject(parsed) &&
    (profiles === undefined ||
      (isObject(profiles) &&
        Object.values(profiles).every((p) => isObject(p) && ['server', 'email'].every((k) => p[k] === undefined || typeof p[k] === 'string'))));
  if (!valid) throw damaged('does not hold insomnia-sync settings ({"profiles": {NAME: {"server": URL, "email": EMAIL}}})');
}

/**
 * Makes `dir` (0700) if it is missing, and takes group and other bits off it if it has any (see
 * private-files.ts). A file in its place is a usage error (exit 2), as `init` says of a file where
 * `.insomnia-sync` goes; a folder that cannot be made is exit 1.
 */
export function ensurePrivateDir(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw notAFolder(dir);
  } catch (err) {
    if (err instanceof SyncError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw notAFolder(dir);
    if (code !== 'ENOENT') throw new SyncError('local_write', `cannot use ${dir} (${fsReason(err)})`, 'point INSOMNIA_SYNC_CONFIG_DIR at a folder you can write');
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (mkErr) {
      const why = mkdirFailure(dir, mkErr);
      const mkCode = (why as NodeJS.ErrnoException).code;
      if (mkCode === 'EEXIST' || mkCode === 'ENOTDIR') throw notAFolder(dir);
      throw new SyncError('local_write', `cannot create ${dir} (${fsReason(why)})`, 'create it yourself, or point INSOMNIA_SYNC_CONFIG_DIR at a folder you can write');
    }
  }
  tightenPrivate([dir]);
}

/**
 * Node's recursive mkdir reports ENOENT where the first folder it must make cannot be made (a
 * read-only file system, no permission): making that one alone tells the real reason.
 */
function mkdirFailure(dir: string, err: unknown): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return err;
  let first = path.resolve(dir);
  while (!existsSync(path.dirname(first)) && path.dirname(first) !== first) first = path.dirname(first);
  try {
    mkdirSync(first, { mode: 0o700 });
  } catch (real) {
    return real;
  }
  return err;
}

function notAFolder(dir: string): UsageError {
  return new UsageError(`${dir} is not a folder (a file is in its way)`, 'move that file away, or point INSOMNIA_SYNC_CONFIG_DIR at a folder');
}
