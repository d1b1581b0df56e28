/**
 * The client's answer checks (src/protocol/answer-check.ts): every route's JSON answer has a
 * validator, generated from the schema the server answers with, and the committed generated file
 * is what the generator makes of today's schemas; the generated functions judge answers as ajv
 * compiling the same schemas does; a problem is named by field path and schema terms only.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { answerProblem, hasAnswerCheck } from '../../src/protocol/answer-check.js';
import * as generated from '../../src/protocol/response-validators.generated.js';
import { FRAME_ANSWER_ROUTES, jsonAnswerSchemas, ROUTE_SCHEMAS } from '../../src/protocol/route-schemas.js';
import { answerValidatorName, ROUTES, type RouteName } from '../../src/protocol/routes.js';
import { REVISION_2_REQUIRED } from './revision-2-answers.js';

const GENERATOR = new URL('../../scripts/generate-validators.mjs', import.meta.url);
const GENERATED = fileURLToPath(new URL('../../src/protocol/response-validators.generated.ts', import.meta.url));

const hex32 = (c: string): string => c.repeat(32);
const hex64 = (c: string): string => c.repeat(64);
const b64 = (n: number): string => 'A'.repeat(n);
const TIME = '2026-01-02T03:04:05.678Z';

/** answers as the real server writes them (test/e2e checks the real ones go through) */
const SAMPLES: { route: RouteName; answer: unknown }[] = [
  {
    route: 'listWorkspaces',
    answer: {
      workspaces: [
        { id: hex32('a'), teamId: hex32('b'), encryptedName: 'abc', head: hex64('c'), keys: [{ epoch: 1, wrappedKey: 'k_-' }], createdAt: TIME, updatedAt: TIME, size: 12 },
        { id: hex32('d'), teamId: hex32('b'), encryptedName: 'x', head: null, keys: [], createdAt: TIME, updatedAt: TIME, size: 0, tokenScope: 'read' },
      ],
    },
  },
  {
    route: 'me',
    answer: {
      user: { id: hex32('a'), email: 'a@example.com', name: 'Ada', createdAt: TIME },
      keys: { wrappedAccountKey: 'w', x25519PublicKey: b64(43), ed25519PublicKey: b64(43), wrappedX25519Secret: 'x', wrappedEd25519Secret: 'y' },
      teams: [{ id: hex32('b'), name: 'Personal', personal: true, role: 'owner', epoch: 2, sealedKeys: [{ epoch: 1, sealedKey: 's' }], rotationPending: true }],
    },
  },
  {
    route: 'listTokens',
    answer: {
      tokens: [
        {
          id: hex32('e'),
          workspaceId: hex32('a'),
          name: 'ci',
          scope: 'write',
          createdBy: { userId: hex32('a'), email: 'a@example.com', name: 'Ada' },
          createdAt: TIME,
          lastUsedAt: null,
          expiresAt: TIME,
          revokedAt: null,
          keyEpoch: 1,
        },
      ],
    },
  },
  { route: 'missingBlobs', answer: { missing: [hex64('0'), hex64('f')] } },
];

/** The sample with one change at `path`: `undefined` removes the field. */
function changed(answer: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(answer) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

/** every field and item path of `value` */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
}

describe('every JSON answer has its check', () => {
  it('every route has schemas with a 2xx answer', () => {
    for (const route of Object.keys(ROUTES) as RouteName[]) {
      const statuses = Object.keys(ROUTE_SCHEMAS[route].response).map(Number);
      if (FRAME_ANSWER_ROUTES.includes(route)) continue;
      expect(statuses.some((s) => s >= 200 && s < 300), route).toBe(true);
    }
  });

  it('each 2xx JSON answer of each route has a generated validator, and nothing else has one', () => {
    const answers = jsonAnswerSchemas();
    // the JSON answers are every route but the frame ones, and those without a body (204)
    const withBody = (Object.keys(ROUTES) as RouteName[]).filter(
      (r) => !FRAME_ANSWER_ROUTES.includes(r) && Object.entries(ROUTE_SCHEMAS[r].response).some(([s, schema]) => Number(s) < 300 && (schema as { type?: string }).type !== 'null'),
    );
    expect(new Set(answers.map((a) => a.route))).toEqual(new Set(withBody));
    for (const { route, status } of answers) expect(hasAnswerCheck(route, status), `${route} ${status}`).toBe(true);
    for (const route of Object.keys(ROUTES) as RouteName[]) {
      expect(hasAnswerCheck(route, 201), route).toBe(false);
      expect(hasAnswerCheck(route, 204), route).toBe(false);
    }
    for (const route of FRAME_ANSWER_ROUTES) expect(hasAnswerCheck(route, 200), route).toBe(false);
    expect(Object.keys(generated).sort()).toEqual(answers.map((a) => answerValidatorName(a.route, a.status)).sort());
  });

  it('the committed validators are what scripts/generate-validators.mjs makes of the schemas now (else: npm run generate)', async () => {
    const { generateValidators } = (await import(GENERATOR.href)) as { generateValidators(answers: { name: string; schema: object }[]): string };
    const fresh = generateValidators(jsonAnswerSchemas().map(({ route, status, schema }) => ({ name: answerValidatorName(route, status), schema })));
    expect(readFileSync(GENERATED, 'utf8') === fresh, 'src/protocol/response-validators.generated.ts is stale: run `npm run generate`').toBe(true);
  });

  it('the generated code loads no module: the CLI runs it without ajv', () => {
    const code = readFileSync(GENERATED, 'utf8');
    expect(code).not.toMatch(/\brequire\(/);
    expect(code).not.toMatch(/^\s*import\b/m);
  });
});

describe('the generated validators judge as ajv does', () => {
  // as fastify compiles request schemas (src/server/app.ts), union types allowed
  const ajv = new Ajv({ allErrors: false, coerceTypes: false, allowUnionTypes: true });

  it.each(SAMPLES)('$route: the real shape passes, and every field wrong or missing fails alike', ({ route, answer }) => {
    const schema = ROUTE_SCHEMAS[route].response[200 as keyof (typeof ROUTE_SCHEMAS)[typeof route]['response']] as object;
    const compiled = ajv.compile(schema);
    expect(compiled(answer), JSON.stringify(compiled.errors)).toBe(true);
    expect(answerProblem(route, 200, answer)).toBeNull();
    for (const path of paths(answer)) {
      for (const value of [undefined, null, 5, 1.5, -1, 'x', true, [], {}]) {
        const wrong = changed(answer, path, value);
        const problem = answerProblem(route, 200, wrong);
        expect(problem === null, `${route} ${path.join('.')} = ${JSON.stringify(value)}: ${problem}`).toBe(compiled(wrong));
      }
    }
  });

  it.each([5, 'x', null, [], true])('no route takes %j for an answer', (answer) => {
    for (const { route, status } of jsonAnswerSchemas()) expect(answerProblem(route, status, answer), route).toMatch(/^the answer: must be object$/);
  });
});

/** every field required in its object, at any depth (under optional fields too), as `a.b[].c` */
function requiredFields(schema: unknown, prefix = ''): string[] {
  const s = schema as { properties?: Record<string, unknown>; required?: string[]; items?: unknown };
  const out: string[] = [];
  for (const [name, part] of Object.entries(s.properties ?? {})) {
    const field = prefix === '' ? name : `${prefix}.${name}`;
    if (s.required?.includes(name)) out.push(field);
    out.push(...requiredFields(part, field));
  }
  if (s.items !== undefined) out.push(...requiredFields(s.items, `${prefix}[]`));
  return out;
}

describe('an older server of the same revision: fields added since may be absent (docs/protocol.md §1.1, §7.2)', () => {
  it('no answer schema requires a field a server of revision 2 may leave out (test/protocol/revision-2-answers.ts)', () => {
    const added: string[] = [];
    for (const { route, status, schema } of jsonAnswerSchemas()) {
      const then = REVISION_2_REQUIRED[`${route} ${status}`];
      expect(then, `${route} ${status}: a new route? add its answer's required fields to test/protocol/revision-2-answers.ts`).toBeDefined();
      added.push(...requiredFields(schema).filter((f) => !then!.includes(f)).map((f) => `${route} ${status}: ${f}`));
    }
    expect(added, 'fields added since revision 2 must be optional in the answer schema, with a default in the client').toEqual([]);
  });

  const account = {
    user: { id: hex32('a'), email: 'a@example.com', name: 'Ada', createdAt: TIME, verifiedAt: null, passwordChangedAt: TIME },
    kdf: { alg: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1, salt: b64(22) },
    publicKeys: { x25519PublicKey: b64(43), ed25519PublicKey: b64(43) },
    recoveryKey: { set: true, createdAt: TIME },
    sessions: [{ id: hex32('c'), client: 'cli', ip: null, createdAt: TIME, lastSeenAt: TIME, expiresAt: TIME, current: true }],
    usage: { workspaces: 0, snapshots: 0, blobs: 0, bytes: 0 },
    teams: [{ id: hex32('b'), name: 'Personal', personal: true, role: 'owner', epoch: 1 }],
    workspaces: [],
    accessTokens: [],
  };
  const token = {
    id: hex32('e'),
    workspaceId: hex32('a'),
    name: 'ci',
    scope: 'read',
    createdBy: { userId: hex32('a'), email: 'a@example.com', name: 'Ada' },
    createdAt: TIME,
    lastUsedAt: null,
    expiresAt: null,
    revokedAt: null,
  };

  it.each([
    { route: 'accountShow' as const, fields: 'endedSessions, invitations', old: account, added: { endedSessions: [], invitations: [] } },
    { route: 'changePassword' as const, fields: 'recoveryKeyRevoked, liveTokens', old: { revokedSessions: 2 }, added: { recoveryKeyRevoked: true, liveTokens: [token], session: { token: b64(43), id: hex32('d'), expiresAt: TIME } } },
  ])('$route: the answer of a revision-2 server from before $fields passes, and so does one with them', ({ route, old, added }) => {
    expect(answerProblem(route, 200, old)).toBeNull();
    expect(answerProblem(route, 200, { ...old, ...added })).toBeNull();
    // when present, they are checked as ever
    for (const field of Object.keys(added)) expect(answerProblem(route, 200, { ...old, ...added, [field]: 5 }), field).toMatch(new RegExp(`^${field}: must be `));
  });
});

describe('what is said about a wrong answer', () => {
  const workspaces = SAMPLES[0]!.answer as { workspaces: Record<string, unknown>[] };
  it.each([
    [{}, 'workspaces: is missing'],
    [{ workspaces: 5 }, 'workspaces: must be array'],
    [changed(workspaces, ['workspaces', 0, 'id'], 5), 'workspaces[0].id: must be string'],
    [changed(workspaces, ['workspaces', 1, 'head'], 5), 'workspaces[1].head: must be string or null'],
    [changed(workspaces, ['workspaces', 0, 'size'], -1), 'workspaces[0].size: must be >= 0'],
    [changed(workspaces, ['workspaces', 0, 'size'], 2 ** 60), 'workspaces[0].size: must be <= 9007199254740991'],
    [changed(workspaces, ['workspaces', 0, 'keys', 0, 'epoch'], 0), 'workspaces[0].keys[0].epoch: must be >= 1'],
    [changed(workspaces, ['workspaces', 1, 'tokenScope'], 'all'), 'workspaces[1].tokenScope: must be one of read, write'],
    [changed(workspaces, ['workspaces', 0, 'teamId'], undefined), 'workspaces[0].teamId: is missing'],
  ])('%j: %s', (answer, problem) => {
    expect(answerProblem('listWorkspaces', 200, answer)).toBe(problem);
  });

  it("never the server's values: a value that breaks a pattern or a list is not repeated", () => {
    const secret = 'SECRET\u001b[2J\nline';
    for (const field of ['id', 'head', 'createdAt', 'tokenScope', 'encryptedName']) {
      const problem = answerProblem('listWorkspaces', 200, changed(workspaces, ['workspaces', 1, field], secret));
      expect(problem).toMatch(/^workspaces\[1\]\.\w+: must /);
      expect(problem).not.toContain('SECRET');
    }
  });

  it('a status the route does not answer with', () => {
    expect(answerProblem('listWorkspaces', 204, undefined)).toBe('status 204 is not an answer of this route');
    expect(answerProblem('getWorkspace', 301, {})).toBe('status 301 is not an answer of this route');
  });
});
