/** Server URLs as the client keeps them: origin and path; no credentials. */
import { describe, expect, it } from 'vitest';
import { ApiClient, serverBaseUrl } from '../../src/client/api.js';
import { UsageError } from '../../src/client/errors.js';
import { normalizeUrl } from '../../src/client/session.js';

describe('server URLs', () => {
  it('keep the path, without a trailing slash, query or fragment', () => {
    expect(serverBaseUrl(new URL('https://Sync.Example.com:443/isync/?debug=1#x'))).toBe('https://sync.example.com/isync');
    expect(normalizeUrl('http://127.0.0.1:8787/')).toBe('http://127.0.0.1:8787');
    expect(new ApiClient({ baseUrl: 'https://sync.example.com/isync/' }).serverUrl).toBe('https://sync.example.com/isync');
  });

  it('refuse a user name or password, without repeating them', () => {
    let err: unknown;
    try {
      new ApiClient({ baseUrl: 'https://ci:hunter2@sync.example.com/isync' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).not.toContain('hunter2');
    expect(() => new ApiClient({ baseUrl: 'ftp://ci:hunter2@sync.example.com' })).toThrow(/must be http\(s\), not ftp$/);
  });
});
