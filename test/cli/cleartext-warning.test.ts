/** A plain-HTTP server that is not on this machine gets one warning per server. */
import { describe, expect, it } from 'vitest';
import { warnIfCleartext } from '../../src/cli/context.js';
import type { Output } from '../../src/cli/output.js';

function recorder(): { out: Output; warnings: string[] } {
  const warnings: string[] = [];
  return { out: { warn: (m: string) => warnings.push(m) } as unknown as Output, warnings };
}

describe('cleartext warning', () => {
  it('warns once for a remote http:// server and never for https:// or loopback', () => {
    const { out, warnings } = recorder();
    warnIfCleartext('http://sync.example.com:8787', out);
    warnIfCleartext('http://sync.example.com:8787', out);
    warnIfCleartext('https://sync.example.com', out);
    warnIfCleartext('http://127.0.0.1:8787', out);
    warnIfCleartext('http://localhost:8787', out);
    warnIfCleartext('http://[::1]:8787', out);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('http://sync.example.com:8787');
  });

  it('takes 127.x only as an address: a host name that starts with it is anywhere', () => {
    const { out, warnings } = recorder();
    warnIfCleartext('http://127.attacker.example', out);
    expect(warnings).toHaveLength(1);
  });
});
