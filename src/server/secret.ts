import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVER_SECRET_FILE = 'server-secret';
const SECRET_BYTES = 32;

/** Loads DATA_DIR/server-secret, creating it (32 random bytes, mode 0600) on first start. */
export function loadOrCreateServerSecret(dataDir: string): Uint8Array {
  const path = join(dataDir, SERVER_SECRET_FILE);
  try {
    writeFileSync(path, randomBytes(SECRET_BYTES), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = readFileSync(path);
  if (secret.length !== SECRET_BYTES) {
    throw new Error(`${path} must hold exactly ${SECRET_BYTES} bytes (found ${secret.length}); remove it to make a new one`);
  }
  return new Uint8Array(secret);
}
