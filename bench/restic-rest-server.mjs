#!/usr/bin/env node
/**
 * A minimal restic REST backend (API v1 and v2) over node:http with files in a folder, so the
 * benchmark can run restic over loopback HTTP just as our CLI talks to our server. There is no
 * rest-server package on this machine. One repository at `/`; files are stored flat per type
 * (DIR/data/NAME, DIR/keys/NAME, …, DIR/config). No auth, no append-only mode: a bench tool.
 *
 * Usage: node bench/restic-rest-server.mjs --dir DIR [--port 0] [--host 127.0.0.1]
 * Prints `restic-rest-server listening on http://HOST:PORT/` once ready.
 */
import { createServer } from 'node:http';
import { createReadStream, createWriteStream, mkdirSync, promises as fsp, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPES = new Set(['data', 'keys', 'locks', 'snapshots', 'index']);
const V2 = 'application/vnd.x.restic.rest.v2';
const NAME = /^[A-Za-z0-9_-]{1,128}$/;

let tmpSeq = 0;

function send(res, status, body = '', headers = {}) {
  res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

async function sizeOf(file) {
  try {
    const st = await fsp.stat(file);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

async function saveBody(req, dir, file) {
  const tmp = path.join(dir, `.tmp-${process.pid}-${tmpSeq++}`);
  // Write then rename, so a reader never sees a half-written object.
  await pipeline(req, createWriteStream(tmp));
  await fsp.rename(tmp, file);
}

async function sendFile(req, res, file) {
  const size = await sizeOf(file);
  if (size === null) return send(res, 404, 'not found\n');
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'Content-Length': size, 'Content-Type': 'application/octet-stream' });
    return res.end();
  }
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (req.headers.range && !range) return send(res, 416, 'bad range\n');
  let start = 0;
  let end = size - 1;
  let status = 200;
  const headers = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes' };
  if (range) {
    start = Number(range[1]);
    end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size || end < start) return send(res, 416, 'range not satisfiable\n', { 'Content-Range': `bytes */${size}` });
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = end - start + 1;
  res.writeHead(status, headers);
  if (end < start) return res.end();
  await pipeline(createReadStream(file, { start, end }), res);
}

async function list(req, res, dir) {
  let names = [];
  try {
    names = (await fsp.readdir(dir)).filter((n) => !n.startsWith('.tmp-'));
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  if ((req.headers.accept ?? '').includes(V2)) {
    const items = await Promise.all(names.map(async (name) => ({ name, size: (await sizeOf(path.join(dir, name))) ?? 0 })));
    return send(res, 200, JSON.stringify(items), { 'Content-Type': V2 });
  }
  return send(res, 200, JSON.stringify(names), { 'Content-Type': 'application/vnd.x.restic.rest.v1' });
}

export function createResticRestHandler(root) {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts.length === 0) {
      if (req.method === 'POST' && url.searchParams.get('create') === 'true') {
        for (const t of TYPES) mkdirSync(path.join(root, t), { recursive: true });
        return send(res, 200);
      }
      return send(res, 405, 'method not allowed\n');
    }
    if (parts.length === 1 && parts[0] === 'config') {
      const file = path.join(root, 'config');
      if (req.method === 'GET' || req.method === 'HEAD') return sendFile(req, res, file);
      if (req.method === 'POST') {
        await saveBody(req, root, file);
        return send(res, 200);
      }
      if (req.method === 'DELETE') {
        await fsp.rm(file, { force: true });
        return send(res, 200);
      }
      return send(res, 405, 'method not allowed\n');
    }
    const [type, name] = parts;
    if (!TYPES.has(type) || parts.length > 2) return send(res, 404, 'not found\n');
    const dir = path.join(root, type);
    if (name === undefined) {
      if (req.method === 'GET') return list(req, res, dir);
      return send(res, 405, 'method not allowed\n');
    }
    if (!NAME.test(name)) return send(res, 400, 'bad name\n');
    const file = path.join(dir, name);
    switch (req.method) {
      case 'HEAD':
      case 'GET':
        return sendFile(req, res, file);
      case 'POST':
        mkdirSync(dir, { recursive: true });
        await saveBody(req, dir, file);
        return send(res, 200);
      case 'DELETE':
        if ((await sizeOf(file)) === null) return send(res, 404, 'not found\n');
        await fsp.rm(file);
        return send(res, 200);
      default:
        return send(res, 405, 'method not allowed\n');
    }
  };
}

/** Starts the server; resolves with its base URL (ending in '/') and a close function. */
export function startResticRestServer({ dir, port = 0, host = '127.0.0.1' }) {
  mkdirSync(dir, { recursive: true });
  const handler = createResticRestHandler(dir);
  const server = createServer((req, res) => {
    handler(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, `${err.message}\n`);
      else res.destroy(err);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({ url: `http://${host}:${addr.port}/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1', dir: null };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--port') opts.port = Number(value);
    else if (flag === '--host') opts.host = value;
    else if (flag === '--dir') opts.dir = value;
    else throw new Error(`unknown option ${flag}`);
    i++;
  }
  if (!opts.dir) throw new Error('--dir DIR is required');
  return opts;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    if (statSync(opts.dir, { throwIfNoEntry: false })?.isFile()) throw new Error(`${opts.dir} is a file`);
    const { url, close } = await startResticRestServer(opts);
    process.stdout.write(`restic-rest-server listening on ${url}\n`);
    const stop = () => close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (err) {
    process.stderr.write(`restic-rest-server: ${err.message}\n`);
    process.exit(2);
  }
}
