/**
 * Exports (SPEC §1 "right to know", §4): a decrypted copy of a workspace, or of the whole account,
 * readable without this tool — a folder, a `.tar.gz`, or with `encrypt` a `.tar.gz.age` that the
 * stock `age -d` opens with the passphrase (age's scrypt recipient, via the age-encryption package).
 *
 * History is verified as for pull (signatures, parent chain, every blob against its id) before
 * anything is written. Archives are built from a private temporary folder (0700) that is removed
 * afterwards, and written under a temporary name then renamed, so a failed export leaves nothing.
 */
import { createWriteStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import os from 'node:os';
import path from 'node:path';
import type { AccountDataResponse } from '../../protocol/types.js';
import type { ClientContext } from '../context.js';
import { AuthError, IntegrityFailure, NotFoundError, UsageError } from '../errors.js';
import { fetchVerifiedSnapshot, findVerifiedSnapshot } from '../history.js';
import { decryptWorkspaceName } from '../keyring.js';
import { STATE_DIR } from '../local/link.js';
import { placeRemoteFiles } from '../local/materialize.js';
import { requireSession, type ActiveSession } from '../session.js';
import { listWorkspaces, resolveWorkspace } from './workspaces.js';
import { loadRemote, trustedSigners } from './linked.js';
import { openLinkedFolder } from './open-linked.js';

type Principal = Parameters<typeof loadRemote>[1];

export type ExportFormat = 'dir' | 'tar.gz' | 'tar.gz.age';

export interface ExportOptions {
  workspace?: string;
  snapshot?: string;
  out: string;
  encrypt?: boolean;
  /** the age passphrase when it comes from the environment; otherwise the prompter asks */
  passphrase?: string;
}

export interface WorkspaceExportResult {
  workspaceId: string;
  name: string;
  snapshot: string | null;
  files: number;
  bytes: number;
  format: ExportFormat;
  out: string;
}

interface Target {
  format: ExportFormat;
  out: string;
}

const ARCHIVE = /\.(tar\.gz|tgz)$/i;
const OTHER_ARCHIVE = /\.(zip|tar|gz|bz2|tbz2?|xz|txz|zst|7z|rar)$/i;

/** Where and how to write: the name decides (FOLDER, NAME.tar.gz, NAME.tar.gz.age); nothing existing is overwritten. */
export function exportTarget(cwd: string, out: string, encrypt: boolean, archiveOnly = false): Target {
  const abs = path.resolve(cwd, out);
  let target: Target;
  if (/\.age$/i.test(abs)) {
    if (!encrypt) throw new UsageError(`${out} names an age file`, 'add --encrypt (the passphrase comes from a prompt or INSOMNIA_SYNC_EXPORT_PASSPHRASE)');
    target = { format: 'tar.gz.age', out: abs };
  } else if (ARCHIVE.test(abs)) {
    target = encrypt ? { format: 'tar.gz.age', out: `${abs}.age` } : { format: 'tar.gz', out: abs };
  } else if (archiveOnly) {
    // a gzip tar under another name (me.json, me.zip) would mislead whoever opens it
    throw new UsageError(`${out} does not end in .tar.gz: this writes a gzip tar archive`, 'give --out NAME.tar.gz (with --encrypt it writes NAME.tar.gz.age)');
  } else {
    if (encrypt) throw new UsageError('--encrypt writes one file', 'give --out NAME.tar.gz (it writes NAME.tar.gz.age)');
    // A folder named like another archive is almost surely not what was meant.
    if (OTHER_ARCHIVE.test(abs)) throw new UsageError(`${out} names an archive this tool does not write`, 'give --out NAME.tar.gz, or a folder');
    target = { format: 'dir', out: abs };
  }
  if (target.format === 'dir') {
    if (existsSync(abs) && (!lstatSync(abs).isDirectory() || readdirSync(abs).length > 0)) {
      throw new UsageError(`${abs} is not an empty folder`, 'export into a new or empty folder, or give --out NAME.tar.gz');
    }
  } else {
    if (existsSync(target.out)) throw new UsageError(`${target.out} exists`, 'choose a new file name');
    if (!existsSync(path.dirname(target.out))) throw new UsageError(`folder ${path.dirname(target.out)} does not exist`);
  }
  return target;
}

/** A file-system-safe folder name for a workspace: its name, then the start of its id. */
export function folderName(name: string, id: string): string {
  const safe = name.replace(/[^A-Za-z0-9._ -]+/g, '-').replace(/^[.\s-]+|[.\s]+$/g, '').slice(0, 80);
  return `${safe || 'workspace'}-${id.slice(0, 8)}`;
}

/** Decrypts one snapshot (default: the head) of a workspace into `dir`, which must be new or empty. */
async function stageWorkspace(
  ctx: ClientContext,
  principal: Principal,
  workspaceId: string,
  snapshot: string | undefined,
  dir: string,
): Promise<{ name: string; snapshot: string | null; files: number; bytes: number }> {
  const p = ctx.primitives;
  const [remote, signers] = await Promise.all([loadRemote(p, principal, workspaceId), trustedSigners(principal, workspaceId, p)]);
  const name = decryptWorkspaceName(p, remote.ring, remote.workspace.encryptedName);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const head = remote.workspace.head;
  if (head === null) {
    if (snapshot) throw new NotFoundError(`no snapshot ${snapshot}: the workspace is empty`);
    return { name, snapshot: null, files: 0, bytes: 0 };
  }
  const verifier = { p, api: principal.api, ring: remote.ring, signers };
  const target = snapshot ? await findVerifiedSnapshot(verifier, head, snapshot) : await fetchVerifiedSnapshot(verifier, head);
  const keys = remote.ring.byEpoch.get(target.manifest.epoch);
  if (!keys) throw new IntegrityFailure('this snapshot uses a key epoch you do not hold');
  const files = target.manifest.files;
  // a fresh private folder: files go straight into place
  await placeRemoteFiles({ p, api: principal.api, workspaceId, keys, epoch: target.manifest.epoch, root: dir, plans: files.map((f) => ({ target: f.path, file: f })), progress: ctx.progress, signal: ctx.cancellation?.() });
  rmSync(path.join(dir, STATE_DIR), { recursive: true, force: true });
  return { name, snapshot: target.id, files: files.length, bytes: files.reduce((n, f) => n + f.size, 0) };
}

function privateTemp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'insomnia-sync-export-'));
}

async function passphraseFor(ctx: ClientContext, given: string | undefined): Promise<string> {
  const pass = given ?? (await ctx.prompter.password('Passphrase for the encrypted export', { confirm: true, fromEnv: false }));
  if (pass.length < 8) throw new UsageError('the export passphrase must have at least 8 characters');
  return pass;
}

/**
 * Packs `top` (a folder under `cwd`) as tar.gz, optionally age-encrypted, into `target.out`
 * atomically. Streamed end to end (tar → gzip → age's STREAM chunks → file), so an export of
 * gigabytes holds a few chunks in memory, not the archive.
 */
async function writeArchive(cwd: string, top: string, target: Target, passphrase: string | null, signal?: AbortSignal): Promise<void> {
  const { create } = await import('tar');
  // tar gives a minipass stream: an async iterable, not a stream.Readable that toWeb takes
  let archive = Readable.from(create({ gzip: true, cwd, portable: true }, [top]) as AsyncIterable<Buffer>);
  if (passphrase !== null) {
    const { Encrypter } = await import('age-encryption');
    const e = new Encrypter();
    e.setPassphrase(passphrase);
    archive = Readable.fromWeb((await e.encrypt(Readable.toWeb(archive) as ReadableStream<Uint8Array>)) as NodeReadableStream<Uint8Array>);
  }
  const tmp = `${target.out}.partial-${process.pid}`;
  const file = createWriteStream(tmp, { mode: 0o600, flags: 'wx' });
  let ours = false; // a file of that name that was there before is not ours to remove
  file.once('open', () => (ours = true));
  try {
    await pipeline(archive, file, ...(signal ? [{ signal }] : []));
    renameSync(tmp, target.out);
  } catch (err) {
    if (ours) rmSync(tmp, { force: true });
    throw signal?.aborted ? signal.reason : err;
  }
}

export async function exportWorkspace(ctx: ClientContext, opts: ExportOptions): Promise<WorkspaceExportResult> {
  const target = exportTarget(ctx.cwd, opts.out, Boolean(opts.encrypt));
  let principal: Principal;
  let workspaceId: string;
  if (opts.workspace) {
    const session = requireSession(ctx);
    principal = session;
    workspaceId = (await resolveWorkspace(ctx, session, opts.workspace)).id;
  } else {
    const linked = await openLinkedFolder(ctx);
    principal = linked.session;
    workspaceId = linked.folder.link.workspaceId;
  }
  const passphrase = target.format === 'tar.gz.age' ? await passphraseFor(ctx, opts.passphrase) : null;
  ctx.progress.start('Verifying history');
  if (target.format === 'dir') {
    const createdDir = !existsSync(target.out);
    try {
      const res = await stageWorkspace(ctx, principal, workspaceId, opts.snapshot, target.out);
      ctx.progress.stop();
      return { workspaceId, ...res, format: 'dir', out: target.out };
    } catch (err) {
      if (createdDir) rmSync(target.out, { recursive: true, force: true });
      throw err;
    }
  }
  const tmp = privateTemp();
  try {
    // the folder name inside the archive is decided once the name is decrypted
    const stage = path.join(tmp, 'stage');
    const res = await stageWorkspace(ctx, principal, workspaceId, opts.snapshot, stage);
    const top = folderName(res.name, workspaceId);
    renameSync(stage, path.join(tmp, top));
    ctx.progress.update('Writing the archive');
    await writeArchive(tmp, top, target, passphrase, ctx.cancellation?.());
    ctx.progress.stop();
    return { workspaceId, ...res, format: target.format, out: target.out };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface AccountExportResult {
  out: string;
  format: ExportFormat;
  workspaces: { id: string; name: string | null; folder: string | null; snapshot: string | null; files: number; skipped?: string }[];
}

/**
 * `account export`: the service data the server holds (`account.json`, as `account show --json`
 * gets it) and every workspace the account can read, decrypted at its head, in one archive:
 *   insomnia-sync-account-DATE/account.json
 *   insomnia-sync-account-DATE/workspaces/NAME-ID/…
 */
export async function exportAccount(ctx: ClientContext, opts: { out: string; encrypt?: boolean; passphrase?: string }): Promise<AccountExportResult> {
  const target = exportTarget(ctx.cwd, opts.out, Boolean(opts.encrypt), true);
  const session: ActiveSession = requireSession(ctx);
  const passphrase = target.format === 'tar.gz.age' ? await passphraseFor(ctx, opts.passphrase) : null;
  ctx.progress.start('Reading your account');
  const [data, workspaces] = await Promise.all([session.api.accountShow(), listWorkspaces(ctx, session)]);
  const tmp = privateTemp();
  try {
    const top = `insomnia-sync-account-${new Date().toISOString().slice(0, 10)}`;
    const root = path.join(tmp, top);
    mkdirSync(path.join(root, 'workspaces'), { recursive: true, mode: 0o700 });
    const results: AccountExportResult['workspaces'] = [];
    for (const ws of workspaces) {
      ctx.progress.update(`Exporting workspace ${ws.name}`);
      try {
        const folder = folderName(ws.name, ws.id);
        const res = await stageWorkspace(ctx, session, ws.id, undefined, path.join(root, 'workspaces', folder));
        results.push({ id: ws.id, name: res.name, folder: `workspaces/${folder}`, snapshot: res.snapshot, files: res.files });
      } catch (err) {
        // a team workspace this account holds no key for yet is listed, not fatal
        if (!(err instanceof AuthError)) throw err;
        results.push({ id: ws.id, name: null, folder: null, snapshot: null, files: 0, skipped: err.message });
      }
    }
    const document: { exportedAt: string; server: string; serviceData: AccountDataResponse; workspaces: AccountExportResult['workspaces'] } = {
      exportedAt: new Date().toISOString(),
      server: session.secrets.server,
      serviceData: data,
      workspaces: results,
    };
    writeFileSync(path.join(root, 'account.json'), JSON.stringify(document, null, 2) + '\n', { mode: 0o600 });
    ctx.progress.update('Writing the archive');
    await writeArchive(tmp, top, target, passphrase, ctx.cancellation?.());
    ctx.progress.stop();
    return { out: target.out, format: target.format, workspaces: results };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
