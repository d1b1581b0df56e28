/**
 * ApiClient.flushed: push and status await it before their long synchronous work (the folder
 * scan, the index encoding) so the server answers meanwhile. A request only goes out when the
 * event loop runs; this checks that after flushed() it has really reached the server, by
 * blocking the loop and asking a server in another process when the request arrived.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/client/api.js';

// a workspace as the protocol has it (the client checks an answer's shape, protocol/answer-check.ts)
const WORKSPACE = JSON.stringify({
  id: 'a'.repeat(32),
  teamId: 'b'.repeat(32),
  encryptedName: 'x',
  head: null,
  keys: [],
  createdAt: '2026-01-02T03:04:05.678Z',
  updatedAt: '2026-01-02T03:04:05.678Z',
  size: 0,
});

// Prints the port, then, for each request, the time it arrived; answers after 50 ms.
const SERVER = `
const WORKSPACE = ${JSON.stringify(WORKSPACE)};
const http = require('node:http');
const srv = http.createServer((req, res) => {
  process.stdout.write('arrived ' + Date.now() + '\\n');
  req.resume();
  setTimeout(() => { res.setHeader('content-type', 'application/json'); res.end(WORKSPACE); }, 50);
});
srv.listen(0, '127.0.0.1', () => process.stdout.write('port ' + srv.address().port + '\\n'));
`;

let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill();
});

function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('ApiClient.flushed', () => {
  it('resolves once the request is on the wire: a server in another process sees it while this one is blocked', async () => {
    child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    while (!/port (\d+)/.test(out)) await once(child.stdout!, 'data');
    const port = Number(/port (\d+)/.exec(out)![1]);
    const api = new ApiClient({ baseUrl: `http://127.0.0.1:${port}` });
    try {
      const answer = api.getWorkspace('a'.repeat(32));
      await api.flushed();
      const blockedAt = Date.now();
      block(400);
      await answer;
      while (!/arrived (\d+)/.test(out)) await once(child.stdout!, 'data');
      const arrivedAt = Number(/arrived (\d+)/.exec(out)![1]);
      // without flushed() the request would leave only after the block, 400 ms later
      expect(arrivedAt).toBeLessThan(blockedAt + 200);
      // and with nothing in flight it resolves at once
      await api.flushed();
    } finally {
      await api.close();
    }
  });
});
