import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES } from '../../src/cli/command-modules.js';

describe('COMMAND_MODULES', () => {
  it('has a loader for every command module (completion runs apart), each exporting run', async () => {
    const files = readdirSync(path.join(import.meta.dirname, '../../src/cli/commands')).map((f) => f.replace(/\.ts$/, ''));
    const expected = files.filter((f) => f !== 'completion').sort();
    expect(Object.keys(COMMAND_MODULES).sort()).toEqual(expected);
    for (const name of expected) {
      const mod = await COMMAND_MODULES[name]!();
      expect(typeof mod.run, name).toBe('function');
    }
  });
});
