import type { Store } from '../storage/store.js';
import type { Mailer } from './mail/mailer.js';

export interface KdfDefaults {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** What route handlers share: the store and the server's policies. Built once by buildApp. */
export interface ServerContext {
  store: Store;
  serverSecret: Uint8Array;
  kdfDefaults: KdfDefaults;
  sessionTtlMs: number;
  now: () => Date;
  /** transactional mail: security notices, receipts (src/server/mail) */
  mailer: Mailer;
}
