/**
 * Exports (SPEC §1 "right to know", §4): a decrypted copy of a workspace, or of the whole account,
 * readable without this tool — a folder, a `.tar.gz`, or with `encrypt` a `.tar.gz.age` that the
 * stock `age -d` opens with the passphrase (age's scrypt recipient, via the age-encryption package).
 *
 * History is verified as for pull (signatures, parent chain) before anything is written, and every
 * blob against its id as it arrives. Archives are packed in memory as the blobs arrive, so the
 * plaintext of an encrypted export never touches the disk; a folder export is filled beside its
 * name. Either is written under a temporary name and only then given its name, and never in place
 * of something that took that name meanwhile; a failed export leaves nothing.
 */
import { closeSync, createWriteStream, existsSync, linkSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import type { AccountData } from '../api.js';
import type { ClientContext } from '../context.js';
import { AuthError, IntegrityFailure, NotFoundError, UsageError } from '../errors.js';
import { fetchVerifiedHead, findVerifiedSnapshot, requireBaseInHistory } from '../history.js';
import { decryptWorkspaceName } from '../keyring.js';
import type { WorkspaceSubkeys } from '../../crypto/workspace-keys.js';
import type { TreeFile } from '../../sync/merge.js';
import { decodeIndexFileHead, readIndexBytes, realTarget, refuseInsideLinkedFolder, STATE_DIR } from '../local/link.js';
import { cannotWrite, checkNewPath } from '../local/new-path.js';
import { takeBackOnExit } from '../local/take-back.js';
import { lstatOrNull } from '../local/files.js';
import { NewerFormatError } from '../../sync/errors.js';
import { placeRemoteFiles, removeEmptyFoldersUpTo } from '../local/materialize.js';
import { fileSystemProbe, refuseCaseCollisions, type CaseProbe } from '../local/case-probe.js';
import { caseCollisions } from '../../sync/case-fold.js';
import { readRemoteFiles, type RemoteFile } from '../remote-read.js';
import type { TarEntry } from '../tar-stream.js';
import { requireSession, type ActiveSession } from '../session.js';
import { checkServerCopyOfOwnKeys, ownFingerprint } from '../own-keys.js';
import { listWorkspaces, resolveWorkspace } from './workspaces.js';
import { loadRemote, requirePrincipal, trustedSigners } from './linked.js';
import { isTokenSession, resolveTokenWorkspace } from '../token-session.js';
import { NAME_A_WORKSPACE_HINT, openLinkedFolder } from './open-linked.js';

type Principal = Parameters<typeof loadRemote>[1];
type PipelineSource = NodeJS.ReadableStream | NodeJS.ReadWriteStream | ((source: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>);

export type ExportFormat = 'dir' | 'tar.gz' | 'tar.gz.age';

export interface ExportOptions {
  workspace?: string;
  snapshot?: string;
  out: string;
  encrypt?: boolean;
  /** the age passphrase when it comes from the environment; otherwise the prompter asks */
  passphrase?: string;
  /**
   * for a folder: asks whether its file system takes two names that differ only in case for one
   * (default: it is asked); an archive holds both, so it is never asked
   */
  caseProbe?: CaseProbe;
}

export interface WorkspaceExportResult {
  workspaceId: string;
  name: string;
  snapshot: string | null;
  files: number;
  bytes: number;
  format: ExportFormat;
  out: string;
  /** files of the snapshot inside `.git`, never exported (see VerifiedSnapshot.leftOut) */
  leftOut: string[];
}

interface Target {
  format: ExportFormat;
  out: string;
}

const ARCHIVE = /\.(tar\.gz|tgz)$/i;
const OTHER_ARCHIVE = /\.(zip|tar|gz|bz2|tbz2?|xz|txz|zst|7z|rar)$/i;

/**
 * Where and how to write: the name decides (FOLDER, NAME.tar.gz, NAME.tar.gz.age); nothing existing is
 * overwritten, and nothing goes inside a linked folder (exit 3, as restore --to).
 */
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
  // As for restore --to and clone: a decrypted copy there would be synced by that folder's next push.
  refuseInsideLinkedFolder(target.out, archiveOnly ? 'account export' : 'export');
  let existing;
  try {
    existing = lstatOrNull(target.out);
  } catch (err) {
    throw cannotWrite(target.out, err, '--out');
  }
  if (existing?.isSymbolicLink()) {
    // Not followed: the archive or folder would land somewhere the name does not say.
    const where = existsSync(target.out) ? '' : ' to a missing file or folder';
    throw new UsageError(`${target.out} is a symbolic link${where}`, 'choose a new name, or give the real path');
  }
  if (target.format === 'dir') {
    const here = realTarget(cwd);
    const real = realTarget(abs);
    // The export takes DIR's place at the end: the shell would be left in a folder that is gone.
    if (here === real || here.startsWith(real + path.sep)) {
      throw new UsageError(`${abs} is the current folder${here === real ? '' : ' or above it'}: the export would take its place`, 'give --out a new folder (e.g. --out export), or run the command from the folder above');
    }
    if (existing && !existing.isDirectory()) throw new UsageError(`${abs} is a file, not a folder`, 'export into a new or empty folder, or give --out NAME.tar.gz');
    if (existing && readdirSync(abs).length > 0) {
      throw new UsageError(`${abs} is not an empty folder`, 'export into a new or empty folder, or give --out NAME.tar.gz');
    }
  } else if (existing) throw new UsageError(`${target.out} exists`, 'choose a new file name');
  // Before any passphrase or download: a file on the way (exit 2), a folder not writable (exit 1).
  checkNewPath(target.out, '--out');
  if (target.format !== 'dir') {
    const parent = path.dirname(target.out);
    if (!existsSync(parent)) throw new UsageError(`folder ${parent} does not exist`);
  }
  return target;
}


/** A file-system-safe folder name for a workspace: its name, then the start of its id. */
export function folderName(name: string, id: string): string {
  const safe = name.replace(/[^A-Za-z0-9._ -]+/g, '-').replace(/^[.\s-]+|[.\s]+$/g, '').slice(0, 80);
  return `${safe || 'workspace'}-${id.slice(0, 8)}`;
}

interface OpenedSnapshot {
  name: string;
  snapshot: string | null;
  files: TreeFile[];
  keys: WorkspaceSubkeys | null;
  epoch: number;
  leftOut: string[];
}

/**
 * The workspace's name and one verified snapshot (default: the head): signatures and chain
 * checked, nothing fetched yet. `base`: the snapshot a linked folder synced last — as status and
 * log, a server rolled back to before it must not have its older head exported as the newest.
 */
async function openSnapshot(ctx: ClientContext, principal: Principal, workspaceId: string, snapshot: string | undefined, base: string | null = null, root: string | null = null): Promise<OpenedSnapshot> {
  const p = ctx.primitives;
  const [remote, signers] = await Promise.all([loadRemote(p, principal, workspaceId), trustedSigners(principal, workspaceId, p)]);
  const name = decryptWorkspaceName(p, remote.ring, remote.workspace.encryptedName);
  const head = remote.workspace.head;
  const verifier = { p, api: principal.api, ring: remote.ring, signers };
  // the history must still hold the folder's last sync: walked down to it first (the head's own
  // check follows), or met on the way by --snapshot's walk of the whole history
  if (base !== null && (!snapshot || head === null)) await requireBaseInHistory(verifier, head, base, root);
  if (head === null) {
    if (snapshot) throw new NotFoundError(`no snapshot ${snapshot}: the workspace is empty`);
    return { name, snapshot: null, files: [], keys: null, epoch: 0, leftOut: [] };
  }
  const target = snapshot ? await findVerifiedSnapshot(verifier, head, snapshot, base) : await fetchVerifiedHead(verifier, head);
  const keys = remote.ring.byEpoch.get(target.manifest.epoch);
  if (!keys) throw new IntegrityFailure('this snapshot uses a key epoch you do not hold');
  return { name, snapshot: target.id, files: target.manifest.files, keys, epoch: target.manifest.epoch, leftOut: target.leftOut.map((f) => f.path) };
}

function summary(s: OpenedSnapshot): { name: string; snapshot: string | null; files: number; bytes: number } {
  return { name: s.name, snapshot: s.snapshot, files: s.files.length, bytes: s.files.reduce((n, f) => n + f.size, 0) };
}

/** Downloads a snapshot's files into `dir`, a new private folder. */
async function placeSnapshot(ctx: ClientContext, principal: Principal, workspaceId: string, s: OpenedSnapshot, dir: string, caseProbe: CaseProbe): Promise<void> {
  mkdirSync(dir, { mode: 0o700 });
  if (!s.keys) return;
  // asked in the staging folder, on the file system the export lands on, before any download
  refuseCaseCollisions(dir, caseCollisions(s.files.map((f) => f.path)), caseProbe, 'export', 'nothing was written (an --out NAME.tar.gz archive holds both)');
  const plans = s.files.map((f) => ({ target: f.path, file: f }));
  await placeRemoteFiles({ p: ctx.primitives, api: principal.api, workspaceId, keys: s.keys, epoch: s.epoch, root: dir, plans, progress: ctx.progress, signal: ctx.cancellation?.() });
  rmSync(path.join(dir, STATE_DIR), { recursive: true, force: true });
}

/** A snapshot's files with their content, read from the server (readRemoteFiles) or held in memory. */
export type FileSource = () => AsyncIterable<RemoteFile>;

function remoteFiles(ctx: ClientContext, principal: Principal, workspaceId: string, s: OpenedSnapshot & { keys: WorkspaceSubkeys }): FileSource {
  return () => readRemoteFiles({ p: ctx.primitives, api: principal.api, workspaceId, keys: s.keys, epoch: s.epoch, files: s.files, signal: ctx.cancellation?.() });
}

/**
 * A snapshot's files as tar entries under `top/`, read from the server into memory and never
 * written to disk: folders as their first file names them, files with their manifest mode.
 */
async function* snapshotEntries(
  ctx: ClientContext,
  principal: Principal,
  workspaceId: string,
  s: OpenedSnapshot,
  top: string,
  mtime: Date,
  source?: FileSource,
): AsyncGenerator<TarEntry> {
  yield { type: 'dir', path: top, mode: 0o700, mtime };
  if (!s.keys) return;
  const made = new Set<string>();
  let done = 0;
  const files = (source ?? remoteFiles(ctx, principal, workspaceId, { ...s, keys: s.keys }))();
  for await (const { file, data } of files) {
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (made.has(dir)) continue;
      made.add(dir);
      yield { type: 'dir', path: `${top}/${dir}`, mode: 0o755, mtime };
    }
    yield { type: 'file', path: `${top}/${file.path}`, mode: file.mode & 0o777, mtime, size: file.size, data };
    if (++done % 100 === 0) ctx.progress.update(`Packing ${done}/${s.files.length} file(s)`);
  }
}

async function passphraseFor(ctx: ClientContext, given: string | undefined): Promise<string> {
  const pass = given ?? (await ctx.prompter.password('Passphrase for the encrypted export', { confirm: true, fromEnv: false, otherEnv: 'INSOMNIA_SYNC_EXPORT_PASSPHRASE' }));
  if (pass.length < 8) throw new UsageError('the export passphrase must have at least 8 characters');
  return pass;
}

/** Why the name was refused at the last step: someone made it while we exported. */
function taken(out: string): UsageError {
  return new UsageError(`${out} appeared while exporting and was left as it is`, 'choose a new name; nothing was written');
}

/**
 * Gives the finished temporary file its name, never replacing anything there, not even a
 * dangling symlink: a hard link fails if the name exists, where a rename would replace it.
 */
function publishFile(tmp: string, out: string): void {
  try {
    linkSync(tmp, out);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw taken(out);
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV'].includes(code ?? '')) throw err;
    // A file system without hard links (FAT, some network shares): take the name exclusively
    // with an empty file, then replace only that one of ours by the archive in one rename.
    let fd: number;
    try {
      fd = openSync(out, 'wx', 0o600);
    } catch (err2) {
      if ((err2 as NodeJS.ErrnoException).code === 'EEXIST') throw taken(out);
      throw err2;
    }
    closeSync(fd);
    renameSync(tmp, out);
    return;
  }
  unlinkSync(tmp);
}

/**
 * Packs `entries` as tar.gz, optionally age-encrypted, into `target.out`. Streamed end to end
 * (entries → tar → gzip → age's STREAM chunks → a temporary file beside `out`): no plaintext
 * reaches the disk for an encrypted export, and an export of gigabytes holds a few MiB in memory.
 */
async function writeArchive(entries: AsyncIterable<TarEntry>, target: Target, passphrase: string | null, signal?: AbortSignal): Promise<void> {
  const [{ tarStream }, { createGzip }] = await Promise.all([import('../tar-stream.js'), import('node:zlib')]);
  // Every stage inside one pipeline, so an error or a cancel anywhere tears down all of them.
  const stages: PipelineSource[] = [Readable.from(tarStream(entries)), createGzip()];
  if (passphrase !== null) {
    const { Encrypter } = await import('age-encryption');
    const e = new Encrypter();
    e.setPassphrase(passphrase);
    stages.push(async function* (gzipped: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      const plain = Readable.toWeb(Readable.from(gzipped)) as ReadableStream<Uint8Array>;
      yield* (await e.encrypt(plain)) as unknown as AsyncIterable<Uint8Array>;
    });
  }
  const tmp = `${target.out}.partial-${process.pid}`;
  let fd: number;
  try {
    // opened here, exclusively: a file of that name that was there before is not ours to remove
    fd = openSync(tmp, 'wx', 0o600);
  } catch (err) {
    throw cannotWrite(target.out, err, '--out');
  }
  // A second Ctrl-C or a hangup exits without waiting for the catch below: the partial file goes even then.
  const forget = takeBackOnExit(() => rmSync(tmp, { force: true }));
  const file = createWriteStream(tmp, { fd });
  try {
    await (pipeline as (...args: unknown[]) => Promise<void>)(...stages, file, ...(signal ? [{ signal }] : []));
    signal?.throwIfAborted();
    publishFile(tmp, target.out);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw signal?.aborted ? signal.reason : cannotWrite(target.out, err, '--out');
  } finally {
    forget();
  }
}

/**
 * Fills a staging folder beside `out` and renames it to `out` at the end. A rename of a folder
 * replaces nothing but an empty folder, so a file, a symlink or a non-empty folder put at `out`
 * meanwhile makes it fail instead of being lost, and `out` is never seen half written.
 */
async function exportToFolder(out: string, fill: (dir: string) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const parent = path.dirname(out);
  let made: string | undefined;
  try {
    made = mkdirSync(parent, { recursive: true });
  } catch (err) {
    throw cannotWrite(out, err, '--out');
  }
  const stage = path.join(parent, `.${path.basename(out)}.partial-${process.pid}`);
  // Whatever stops the export takes back the staging folder and the folders made for it, also a
  // second Ctrl-C or a hangup, which exit without waiting for the catch below.
  const takeBack = (): void => {
    rmSync(stage, { recursive: true, force: true });
    if (made !== undefined) removeEmptyFoldersUpTo(parent, made);
  };
  const forget = takeBackOnExit(takeBack);
  try {
    await fill(stage);
    // cancelled as the last file arrived: the export does not take its name
    signal?.throwIfAborted();
    try {
      renameSync(stage, out);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') throw taken(out);
      // An empty mount point: a folder in place, but one a rename cannot replace.
      if (code === 'EBUSY') throw new UsageError(`${out} is a mount point or in use, so the export cannot take its place`, `give --out a new folder inside it, e.g. ${path.join(out, 'export')}`);
      throw err;
    }
  } catch (err) {
    takeBack();
    throw signal?.aborted ? signal.reason : cannotWrite(out, err, '--out');
  } finally {
    forget();
  }
}

export async function exportWorkspace(ctx: ClientContext, opts: ExportOptions): Promise<WorkspaceExportResult> {
  const target = exportTarget(ctx.cwd, opts.out, Boolean(opts.encrypt));
  let principal: Principal;
  let workspaceId: string;
  let base: string | null = null;
  /** the linked folder the export reads from, whose verified head is recorded */
  let root: string | null = null;
  if (opts.workspace) {
    // with INSOMNIA_SYNC_TOKEN, the token's workspace (a CI job exports without cloning first), as verify --workspace
    const given = requirePrincipal(ctx);
    principal = given;
    workspaceId = isTokenSession(given)
      ? (await resolveTokenWorkspace(ctx.primitives, given, opts.workspace)).id
      : (await resolveWorkspace(ctx, given, opts.workspace)).id;
  } else {
    const linked = await openLinkedFolder(ctx, NAME_A_WORKSPACE_HINT);
    principal = linked.session;
    workspaceId = linked.folder.link.workspaceId;
    base = decodeIndexFileHead(linked.folder.root, readIndexBytes(linked.folder.root)).base;
    root = linked.folder.root;
  }
  const passphrase = target.format === 'tar.gz.age' ? await passphraseFor(ctx, opts.passphrase) : null;
  ctx.progress.start('Verifying history');
  const opened = await openSnapshot(ctx, principal, workspaceId, opts.snapshot, base, root);
  if (target.format === 'dir') {
    await exportToFolder(target.out, (dir) => placeSnapshot(ctx, principal, workspaceId, opened, dir, opts.caseProbe ?? fileSystemProbe), ctx.cancellation?.());
  } else {
    ctx.progress.update('Writing the archive');
    const entries = snapshotEntries(ctx, principal, workspaceId, opened, folderName(opened.name, workspaceId), new Date());
    await writeArchive(entries, target, passphrase, ctx.cancellation?.());
  }
  ctx.progress.stop();
  return { workspaceId, ...summary(opened), format: target.format, out: target.out, leftOut: opened.leftOut };
}

export interface AccountExportResult {
  out: string;
  format: ExportFormat;
  workspaces: {
    id: string;
    name: string | null;
    folder: string | null;
    snapshot: string | null;
    files: number;
    /** why the workspace is not in the archive */
    skipped?: string;
    /** the error code of that reason: `integrity` or `newer_format` (a failure), `unauthorized`/`forbidden` (no key yet: not one) */
    skippedCode?: string;
  }[];
}

/**
 * Up to this much plaintext of one workspace is held in memory while its files are checked, so a
 * bad file keeps the whole workspace out of an account export; a bigger workspace is read twice
 * (checked, then packed), which keeps memory at a few MiB.
 */
const HOLD_BYTES = 64 * 1024 * 1024;

/**
 * Every file of `read` read to its end, so checked against its id, before the first of them goes
 * into the archive: an IntegrityFailure here leaves nothing of the workspace behind. The answer
 * gives the checked files again: from memory when they total at most `holdBytes`, else (a big
 * workspace) by `read` once more, each checked again as it is packed.
 */
export async function checkedFiles(read: FileSource, totalBytes: number, holdBytes = HOLD_BYTES): Promise<FileSource> {
  const hold = totalBytes <= holdBytes;
  const held: { file: RemoteFile['file']; parts: Uint8Array[] }[] = [];
  for await (const { file, data } of read()) {
    const parts: Uint8Array[] = [];
    for await (const chunk of data) if (hold) parts.push(chunk);
    if (hold) held.push({ file, parts });
  }
  if (!hold) return read;
  return async function* () {
    for (const { file, parts } of held) yield { file, data: (async function* () { yield* parts; })() };
  };
}

/** The error that keeps one workspace out of an account export while the others go in; null: it stops the export. */
function skipCodeOf(err: unknown): string | null {
  if (err instanceof AuthError || err instanceof IntegrityFailure) return err.code;
  if (err instanceof NewerFormatError) return err.code;
  return null;
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
  // The export says what the server holds about you, public keys included: as `account show` does,
  // they must be the keys of this machine's secret keys, or nothing is written (exit 7).
  checkServerCopyOfOwnKeys(session.identity, data.publicKeys);
  const mtime = new Date();
  const top = `insomnia-sync-account-${mtime.toISOString().slice(0, 10)}`;
  const results: AccountExportResult['workspaces'] = [];
  // account.json goes last: it lists what each workspace turned out to be
  async function* entries(): AsyncGenerator<TarEntry> {
    yield { type: 'dir', path: top, mode: 0o700, mtime };
    yield { type: 'dir', path: `${top}/workspaces`, mode: 0o700, mtime };
    for (const ws of workspaces) {
      ctx.progress.update(`Exporting workspace ${ws.name}`);
      let opened: OpenedSnapshot;
      let source: FileSource | undefined;
      try {
        opened = await openSnapshot(ctx, session, ws.id, undefined);
        ctx.progress.update(`Checking workspace ${ws.name}`);
        if (opened.keys) {
          const size = opened.files.reduce((n, f) => n + f.size, 0);
          source = await checkedFiles(remoteFiles(ctx, session, ws.id, { ...opened, keys: opened.keys }), size);
        }
      } catch (err) {
        // A team workspace this account holds no key for yet is listed, not fatal. One that fails
        // its check (or that a newer insomnia-sync wrote) is left out with the reason and the rest
        // still exported, as restic and borg go on past a damaged item: the caller reports it and
        // exits with its code at the end.
        const code = skipCodeOf(err);
        if (code === null) throw err;
        const name = err instanceof AuthError ? null : ws.name;
        results.push({ id: ws.id, name, folder: null, snapshot: null, files: 0, skipped: (err as Error).message, skippedCode: code });
        continue;
      }
      const folder = `workspaces/${folderName(ws.name, ws.id)}`;
      yield* snapshotEntries(ctx, session, ws.id, opened, `${top}/${folder}`, mtime, source);
      results.push({ id: ws.id, name: opened.name, folder, snapshot: opened.snapshot, files: opened.files.length });
    }
    const document: { exportedAt: string; server: string; fingerprint: string; serviceData: AccountData; workspaces: AccountExportResult['workspaces'] } = {
      exportedAt: new Date().toISOString(),
      server: session.secrets.server,
      // of the keys this machine holds, checked above against the server's copy, as account show
      fingerprint: ownFingerprint(session.identity, ctx.primitives),
      serviceData: data,
      workspaces: results,
    };
    const json = Buffer.from(JSON.stringify(document, null, 2) + '\n');
    yield { type: 'file', path: `${top}/account.json`, mode: 0o600, mtime, size: json.length, data: [json] };
  }
  ctx.progress.update('Writing the archive');
  await writeArchive(entries(), target, passphrase, ctx.cancellation?.());
  ctx.progress.stop();
  return { out: target.out, format: target.format, workspaces: results };
}
