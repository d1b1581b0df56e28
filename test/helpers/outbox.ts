/** Reading the codes a test server mailed, from the `.eml` files of its outbox (DATA_DIR/outbox). */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The newest code of `kind` mailed to `to`. */
export function mailedCode(dataDir: string, to: string, kind: 'Verification code' | 'Invite code'): string {
  const dir = path.join(dataDir, 'outbox');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.eml')).sort().reverse()) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    const m = new RegExp(`^${kind}: (\\S+)\\r?$`, 'm').exec(text);
    if (text.includes(`To: ${to}\r\n`) && m) return m[1]!;
  }
  throw new Error(`no ${kind} mailed to ${to}`);
}
