/**
 * The server app in this process, driven through app.inject: a fresh SQLite store in a temp folder
 * and mail kept in memory, made before each test and closed after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeEach } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import type { MailMessage, Mailer } from '../../src/server/mail/mailer.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';

export class MemoryMailer implements Mailer {
  readonly kind = 'memory';
  readonly sent: MailMessage[] = [];
  async send(m: MailMessage): Promise<void> {
    this.sent.push(m);
  }
  async close(): Promise<void> {}
}

export interface InProcessServer {
  app: FastifyInstance;
  store: Store;
  mailer: MemoryMailer;
  /** the store's folder */
  dir: string;
}

/** Registers the hooks; the returned object holds the current test's server. */
export function inProcessServerPerTest(prefix: string, serverSecret: Uint8Array): InProcessServer {
  const current = {} as InProcessServer;
  const dirs: string[] = [];
  beforeEach(async () => {
    current.dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(current.dir);
    current.store = await openStore(undefined, current.dir);
    current.mailer = new MemoryMailer();
    current.app = buildApp({ store: current.store, serverSecret, kdfDefaults: { memoryKiB: 65536, iterations: 3, parallelism: 1 }, mailer: current.mailer });
    await current.app.ready();
  });
  afterEach(async () => {
    await current.app.close();
    await current.store.close();
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return current;
}
