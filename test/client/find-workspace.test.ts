import { describe, expect, it } from 'vitest';
import { findWorkspace } from '../../src/client/find-workspace.js';
import { MIN_ID_PREFIX } from '../../src/client/find-by-id-or-name.js';
import { NotFoundError, UsageError } from '../../src/client/errors.js';

const ws = (id: string, name: string) => ({ id, name });
const all = [
  ws('71b7c0de000000000000000000000000', 'api'),
  ws('abcd1234000000000000000000000000', 'Acme'),
  ws('abcd5678000000000000000000000000', 'Acme'),
  ws('5eed0000000000000000000000000000', 'cafe'),
  ws('cafe0000000000000000000000000000', 'other'),
  ws('d00d0000000000000000000000000000', 'd00d'),
];

describe('a workspace by name, id or unique id prefix', () => {
  it('takes an exact id, an exact name, or a unique prefix of 4 or more characters (any case), as team and snapshot ids', () => {
    expect(MIN_ID_PREFIX).toBe(4);
    expect(findWorkspace(all, 'abcd5678000000000000000000000000')).toBe(all[2]);
    expect(findWorkspace(all, 'api')).toBe(all[0]);
    expect(findWorkspace(all, '71b7')).toBe(all[0]);
    expect(findWorkspace(all, '71B7C0')).toBe(all[0]);
    expect(findWorkspace(all, 'abcd5678')).toBe(all[2]);
    // a name that is its own id's prefix is one workspace, not two
    expect(findWorkspace(all, 'd00d')).toBe(all[5]);
  });

  it('an ambiguous prefix or name is a usage error (exit 2)', () => {
    expect(() => findWorkspace(all, 'abcd')).toThrow(UsageError);
    expect(() => findWorkspace(all, 'abcd')).toThrow('workspace id prefix abcd is ambiguous');
    expect(() => findWorkspace(all, 'Acme')).toThrow('2 workspaces are named Acme');
  });

  it("a name that is the start of another workspace's id takes neither (exit 2): give the full id", () => {
    expect(() => findWorkspace(all, 'cafe')).toThrow(UsageError);
    expect(() => findWorkspace(all, 'cafe')).toThrow("cafe is both a workspace's name and the start of another's id");
    expect(findWorkspace(all, 'cafe0000000000000000000000000000')).toBe(all[4]);
    expect(findWorkspace(all, '5eed')).toBe(all[3]);
  });

  it('a prefix of an id under 4 characters is a usage error that states the minimum; nothing matching is not found (exit 5)', () => {
    for (const short of ['7', '71b', 'AB']) {
      expect(() => findWorkspace(all, short), short).toThrow(UsageError);
      expect(() => findWorkspace(all, short), short).toThrow(/is too short: give at least 4 characters/);
    }
    for (const none of ['ffff', 'fff', 'nobody']) expect(() => findWorkspace(all, none), none).toThrow(NotFoundError);
    try {
      findWorkspace(all, 'nobody');
    } catch (err) {
      expect((err as NotFoundError).hint).toMatch(/id prefix of at least 4 characters/);
    }
  });
});
