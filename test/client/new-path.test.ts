/** cannotWrite: a file-system refusal while writing a new path, said as one line naming that path. */
import { describe, expect, it } from 'vitest';
import { cannotWrite } from '../../src/client/local/new-path.js';
import { SyncError, UsageError } from '../../src/client/errors.js';

function fsError(code: string, syscall: string, at?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something, ${syscall}${at ? ` '${at}'` : ''}`), { code, syscall, ...(at ? { path: at } : {}) });
}

describe('cannotWrite', () => {
  it('ENOSPC mid-write (no path in the error): local_write naming the path given', () => {
    const err = cannotWrite('/out/x.tar.gz', fsError('ENOSPC', 'write'), '--out');
    expect(err).toBeInstanceOf(SyncError);
    expect((err as SyncError).code).toBe('local_write');
    expect((err as SyncError).message).toBe('cannot write /out/x.tar.gz (no space left on device, ENOSPC)');
    expect((err as SyncError).hint).toMatch(/free some space/);
  });

  it('never names the temporary file the error was about', () => {
    const err = cannotWrite('/ro/out.tar.gz', fsError('EACCES', 'open', '/ro/out.tar.gz.partial-10444'), '--out') as SyncError;
    expect(err.message).toBe('cannot write /ro/out.tar.gz (permission denied, EACCES)');
  });

  it('ENOTDIR is a usage error (exit 2)', () => {
    expect(cannotWrite('/f/x', fsError('ENOTDIR', 'mkdir', '/f/x'), '--to')).toBeInstanceOf(UsageError);
  });

  it('leaves other errors as they are', () => {
    const other = new SyncError('integrity', 'bad blob');
    expect(cannotWrite('/x', other, '--out')).toBe(other);
    const plain = new Error('boom');
    expect(cannotWrite('/x', plain, '--out')).toBe(plain);
  });
});
