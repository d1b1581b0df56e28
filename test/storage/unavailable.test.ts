/** Which backend errors the server answers 503 `unavailable` instead of 500 (src/storage/unavailable.ts). */
import { describe, expect, it } from 'vitest';
import { storageUnavailableReason } from '../../src/storage/unavailable.js';

const err = (props: Record<string, unknown>, message = 'boom'): Error => Object.assign(new Error(message), props);

describe('storageUnavailableReason', () => {
  const unavailable: [string, unknown, string][] = [
    ['SQLite disk full', err({ code: 'SQLITE_FULL' }), 'disk full'],
    ['SQLite busy after the busy timeout', err({ code: 'SQLITE_BUSY' }), 'database busy'],
    ['SQLite extended busy code', err({ code: 'SQLITE_BUSY_SNAPSHOT' }), 'database busy'],
    ['SQLite read-only file', err({ code: 'SQLITE_READONLY' }), 'database read-only'],
    ['SQLite database moved', err({ code: 'SQLITE_READONLY_DBMOVED' }), 'database read-only'],
    ['SQLite cannot open', err({ code: 'SQLITE_CANTOPEN' }), 'database cannot be opened'],
    ['SQLite I/O error', err({ code: 'SQLITE_IOERR_WRITE' }), 'I/O error'],
    ['PostgreSQL admin shutdown', err({ code: '57P01' }), 'database shutting down'],
    ['PostgreSQL crash shutdown', err({ code: '57P02' }), 'database shutting down'],
    ['PostgreSQL cannot connect now', err({ code: '57P03' }), 'database starting up or not accepting connections'],
    ['PostgreSQL too many connections', err({ code: '53300' }), 'database out of resources'],
    ['PostgreSQL disk full', err({ code: '53100' }), 'database out of resources'],
    ['PostgreSQL connection failure', err({ code: '08006' }), 'database connection failed'],
    ['PostgreSQL refused', err({ code: 'ECONNREFUSED' }), 'database unreachable'],
    ['connection reset', err({ code: 'ECONNRESET' }), 'database unreachable'],
    ['pg: terminated', new Error('Connection terminated unexpectedly'), 'database connection lost'],
    ['pg: pool timeout', new Error('timeout exceeded when trying to connect'), 'database connection lost'],
    ['pg: no answer within the read timeout', new Error('Query read timeout'), 'database not answering'],
    ['PostgreSQL statement timeout', err({ code: '57014' }, 'canceling statement due to statement timeout'), 'database statement timeout'],
    ['PostgreSQL lock timeout', err({ code: '55P03' }, 'canceling statement due to lock timeout'), 'database busy'],
    ['PostgreSQL serialization failure after the retries', err({ code: '40001' }), 'database busy'],
    ['PostgreSQL deadlock after the retries', err({ code: '40P01' }), 'database busy'],
    ['wrapped in a cause', new Error('open failed', { cause: err({ code: '57P01' }) }), 'database shutting down'],
  ];
  for (const [name, error, reason] of unavailable) {
    it(`${name} → ${reason}`, () => expect(storageUnavailableReason(error)).toBe(reason));
  }

  const bugs: [string, unknown][] = [
    ['SQLite constraint', err({ code: 'SQLITE_CONSTRAINT_UNIQUE' })],
    ['SQLite corrupt file', err({ code: 'SQLITE_CORRUPT' })],
    ['SQLite SQL error', err({ code: 'SQLITE_ERROR' })],
    ['PostgreSQL unique violation', err({ code: '23505' })],
    ['PostgreSQL syntax error', err({ code: '42601' })],
    ['PostgreSQL insufficient privilege', err({ code: '42501' })],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a file error', err({ code: 'EACCES' })],
    ['not an error', 'SQLITE_FULL'],
    ['nothing', undefined],
  ];
  for (const [name, error] of bugs) {
    it(`${name} → null (500 internal)`, () => expect(storageUnavailableReason(error)).toBeNull());
  }
});
