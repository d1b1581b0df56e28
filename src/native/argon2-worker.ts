/**
 * Argon2id in a worker thread, so the event loop (and the CLI's spinner) keeps running during the
 * second or so a password takes to stretch. Same checks and same hash-wasm call as argon2idRaw
 * (src/crypto/kdf.ts), hence byte-identical output; when no worker can be started the computation
 * falls back to argon2idRaw on this thread rather than failing the command.
 *
 * node:worker_threads, node:module and kdf.ts (with the noble hashes it imports, ~40 ms to load)
 * are imported on first use: a CLI command that never stretches a password pays nothing for
 * loading this module.
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { Argon2idFunction, Argon2RawOptions, hashWasmArgon2Options } from '../crypto/kdf.js';

// Run from source (eval) rather than from a file: a file would have to be found next to this one
// in dist/ and would not exist when vitest runs src/ directly. CommonJS, because an eval worker is
// a script; hash-wasm's UMD bundle is required by the absolute path the parent resolved.
// The worker zeroes its copies of the password and secret once hash-wasm is done with them.
const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { argon2id } = require(workerData.hashWasmPath);
parentPort.once('message', async (options) => {
  try {
    const out = Uint8Array.from(await argon2id(options));
    parentPort.postMessage({ ok: true, out }, [out.buffer]);
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String(err && err.message) });
  } finally {
    options.password.fill(0);
    if (options.secret) options.secret.fill(0);
  }
});
`;

type WorkerReply = { ok: true; out: Uint8Array } | { ok: false; message: string };

export interface Argon2WorkerOptions {
  /** passed to the Worker; too small a limit makes it fail, which the fallback covers */
  resourceLimits?: ResourceLimits;
  /** called with the reason when the computation falls back to this thread (never with secrets) */
  onFallback?: (reason: unknown) => void;
}

/** An Argon2idFunction that computes in a new worker thread per call, terminated after use. */
export function argon2idWorker(options: Argon2WorkerOptions = {}): Argon2idFunction {
  return async (password, salt, opts) => {
    const { argon2idRaw, hashWasmArgon2Options } = await import('../crypto/kdf.js');
    const wasmOptions = hashWasmArgon2Options(password, salt, opts);
    // Associated data (only the RFC 9106 vector uses it) needs noble: not worth a thread.
    if (wasmOptions === undefined) return argon2idRaw(password, salt, opts);
    try {
      return await computeInWorker(password, salt, opts, wasmOptions, options.resourceLimits);
    } catch (err) {
      options.onFallback?.(err);
      return argon2idRaw(password, salt, opts);
    }
  };
}

/** The worker implementation with default options: what the CLI injects. */
export const argon2idInWorker: Argon2idFunction = argon2idWorker();

type WasmOptions = NonNullable<ReturnType<typeof hashWasmArgon2Options>>;

let hashWasmPath: string | undefined;

async function computeInWorker(
  password: Uint8Array,
  salt: Uint8Array,
  opts: Argon2RawOptions,
  wasmOptions: WasmOptions,
  resourceLimits: ResourceLimits | undefined,
): Promise<Uint8Array> {
  const { Worker } = await import('node:worker_threads');
  if (hashWasmPath === undefined) {
    const { createRequire } = await import('node:module');
    hashWasmPath = createRequire(import.meta.url).resolve('hash-wasm/dist/argon2.umd.min.js');
  }
  // Fresh copies are transferred, not cloned: no serialised copy of the password stays behind, and
  // the caller's bytes stay intact for the fallback (the caller zeroes them, as before).
  const copies = { password: password.slice(), salt: salt.slice(), ...('secret' in wasmOptions && opts.secret ? { secret: opts.secret.slice() } : {}) };
  const message = { ...wasmOptions, ...copies };
  const transfer = Object.values(copies).map((bytes) => bytes.buffer);

  return new Promise<Uint8Array>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { hashWasmPath },
      // The parent's flags (a debugger, a loader) have nothing to do in this worker.
      execArgv: [],
      ...(resourceLimits ? { resourceLimits } : {}),
    });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      worker.unref();
      void worker.terminate();
      fn();
    };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.ok && reply.out instanceof Uint8Array && reply.out.length === opts.hashLength) settle(() => resolve(reply.out));
      else settle(() => reject(new Error(`argon2 worker failed: ${reply.ok ? 'malformed reply' : reply.message}`)));
    });
    // Stays attached after settling: an 'error' event with no listener would crash the process.
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => settle(() => reject(new Error(`argon2 worker exited with code ${code} before replying`))));
    try {
      worker.postMessage(message, transfer);
    } catch (err) {
      settle(() => reject(err));
    }
  });
}
