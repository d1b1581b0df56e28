#!/usr/bin/env node
/**
 * Server load benchmark (`npm run bench:server`): N concurrent clients against the real server
 * process, each with its own account and workspace, mixing head checks (GET workspace) and small
 * pushes (upload one 4 KiB blob, then create a snapshot on the current head). Prints throughput
 * and p50/p99 latency per backend and operation as a table.
 *
 * Env: BENCH_CLIENTS (default 16), BENCH_SECONDS (10), BENCH_PUSH_SHARE (0.2).
 * PostgreSQL runs when INSOMNIA_SYNC_BENCH_PG_URL or INSOMNIA_SYNC_TEST_PG_URL names a server
 * (a superuser URL; a throwaway database is made and dropped); otherwise it is left out with a note.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFrames } from '../dist/protocol/blob-frames.js';
import { startServer } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PUSH_SHARE = Number(process.env.BENCH_PUSH_SHARE ?? 0.2);
const PG_URL = process.env.INSOMNIA_SYNC_BENCH_PG_URL || process.env.INSOMNIA_SYNC_TEST_PG_URL || '';

const hex = (n) => randomBytes(n).toString('hex');
const b64 = (n) => randomBytes(n).toString('base64url');
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS * 2 });

function call(base, method, path, { token, json, raw } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    let body;
    if (token) headers.authorization = `Bearer ${token}`;
    if (json !== undefined) {
      body = JSON.stringify(json);
      headers['content-type'] = 'application/json';
    } else if (raw) {
      body = raw;
      headers['content-type'] = 'application/octet-stream';
    }
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const req = http.request(`${base}${path}`, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function setupClient(base) {
  const teamId = hex(16);
  const signup = await call(base, 'POST', '/v1/auth/signup', {
    json: {
      userId: hex(16),
      email: `bench-${hex(6)}@example.com`,
      name: 'Bench',
      kdf: { alg: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1, salt: b64(16) },
      authKey: b64(32),
      keys: { wrappedAccountKey: b64(73), x25519PublicKey: b64(32), ed25519PublicKey: b64(32), wrappedX25519Secret: b64(73), wrappedEd25519Secret: b64(73) },
      personalTeam: { id: teamId, sealedTeamKey: b64(80) },
    },
  });
  if (signup.status !== 200) throw new Error(`signup: ${signup.status} ${signup.body}`);
  const token = JSON.parse(signup.body).session.token;
  const workspaceId = hex(16);
  const ws = await call(base, 'POST', '/v1/workspaces', { token, json: { id: workspaceId, teamId, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } } });
  if (ws.status !== 200) throw new Error(`workspace: ${ws.status} ${ws.body}`);
  return { token, workspaceId, head: null };
}

async function headCheck(base, c) {
  const res = await call(base, 'GET', `/v1/workspaces/${c.workspaceId}`, { token: c.token });
  if (res.status !== 200) throw new Error(`head check: ${res.status}`);
  c.head = JSON.parse(res.body).head;
}

async function smallPush(base, c) {
  const blob = { id: hex(32), data: new Uint8Array(randomBytes(4096)) };
  const up = await call(base, 'PUT', `/v1/workspaces/${c.workspaceId}/blobs`, { token: c.token, raw: Buffer.from(encodeFrames([blob])) });
  if (up.status !== 200) throw new Error(`upload: ${up.status} ${up.body}`);
  const data = randomBytes(600);
  const id = createHash('sha256').update(data).digest('hex');
  const snap = await call(base, 'POST', `/v1/workspaces/${c.workspaceId}/snapshots`, {
    token: c.token,
    json: { id, parent: c.head, data: data.toString('base64url'), blobIds: [blob.id] },
  });
  if (snap.status !== 200) throw new Error(`snapshot: ${snap.status} ${snap.body}`);
  c.head = id;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function runBackend(label, dbArgs) {
  const dataDir = mkdtempSync(join(tmpdir(), 'insomnia-sync-bench-server-'));
  const limits = ['prelogin', 'login', 'verify', 'invite'].flatMap((b) => [`--rate-limit-${b}`, '0,0']);
  const server = await startServer(
    process.execPath,
    [join(ROOT, 'bin/insomnia-sync-server.js'), '--port', '0', '--data-dir', dataDir, '--kdf-memory', '65536', '--kdf-iterations', '3', '--log-file', join(dataDir, 'server.log'), ...limits, ...dbArgs],
    { logFile: join(dataDir, 'stdout.log'), urlPattern: /listening on (http:\/\/\S+)/, env: { ...process.env, INSOMNIA_SYNC_DB: '' }, cwd: ROOT },
  );
  try {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => setupClient(server.url)));
    for (const c of clients) await smallPush(server.url, c);
    const lat = { head: [], push: [] };
    const errors = [];
    const until = Date.now() + SECONDS * 1000;
    const started = process.hrtime.bigint();
    let seed = 1;
    await Promise.all(
      clients.map(async (c) => {
        while (Date.now() < until) {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          const kind = seed / 2 ** 31 < PUSH_SHARE ? 'push' : 'head';
          const t0 = process.hrtime.bigint();
          try {
            if (kind === 'push') await smallPush(server.url, c);
            else await headCheck(server.url, c);
            lat[kind].push(Number(process.hrtime.bigint() - t0) / 1e6);
          } catch (err) {
            errors.push(err.message);
            if (errors.length > 50) throw new Error(`too many errors: ${errors.slice(0, 3).join('; ')}`);
          }
        }
      }),
    );
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    return ['head', 'push'].map((op) => {
      const sorted = lat[op].sort((a, b) => a - b);
      return { backend: label, op: op === 'head' ? 'head check' : 'small push', count: sorted.length, perSec: sorted.length / wall, p50: percentile(sorted, 50), p99: percentile(sorted, 99), errors: errors.length };
    });
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function withPgDatabase(fn) {
  const { default: pg } = await import('pg');
  const name = `isync_bench_${hex(4)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}

const rows = [];
rows.push(...(await runBackend('sqlite', [])));
let note = '';
if (PG_URL) {
  try {
    rows.push(...(await withPgDatabase((url) => runBackend('postgres', ['--db', url]))));
  } catch (err) {
    note = `PostgreSQL run failed: ${err.message}`;
  }
} else {
  note = 'PostgreSQL left out: set INSOMNIA_SYNC_BENCH_PG_URL (or INSOMNIA_SYNC_TEST_PG_URL) to a superuser URL to include it.';
}

const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const table = [
  ['backend', 'operation', 'requests', 'ops/s', 'p50 ms', 'p99 ms', 'errors'],
  ...rows.map((r) => [r.backend, r.op, String(r.count), fmt(r.perSec), fmt(r.p50, 2), fmt(r.p99, 2), String(r.errors)]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
process.stdout.write(`server load: ${CLIENTS} clients, ${SECONDS} s, ${Math.round(PUSH_SHARE * 100)}% small pushes (a push = upload + snapshot)\n\n`);
for (const [i, row] of table.entries()) {
  process.stdout.write(`| ${row.map((cell, j) => (j < 2 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join(' | ')} |\n`);
  if (i === 0) process.stdout.write(`|${widths.map((w, j) => (j < 2 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|\n`);
}
if (note) process.stdout.write(`\n${note}\n`);
agent.destroy();
