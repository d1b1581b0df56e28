/**
 * A seeded, realistic Insomnia workspace folder: Insomnia v4 export JSON (requests, folders,
 * environments), OpenAPI 3 YAML specs (a few of them large) and small environment files, in nested
 * folders. Text built from a vocabulary plus random ids, so it compresses roughly like real exports
 * (neither all-random nor all-repeated). Same seed and options → byte-identical tree.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from './prng.mjs';

const WORDS = (
  'account address admin alert amount api archive audit auth balance batch billing body cache callback card cart ' +
  'catalog channel charge checkout client code comment config contact content country coupon credit currency ' +
  'customer dashboard data date default delivery device discount document domain draft email endpoint entry error ' +
  'event export feature feed file filter flag form gateway group health history hook identity image import invoice ' +
  'item job key label language limit link list locale log member merchant message metadata method metric mode ' +
  'notification offer order organization owner page partner password payment payout permission phone plan policy ' +
  'price product profile project query quota rate receipt record refund region release report request resource ' +
  'response role rule schedule schema scope search secret segment session setting shipment signature source status ' +
  'store subscription summary tag task tax team template tenant ticket token transaction transfer trigger upload ' +
  'usage user value variant vendor version webhook window workflow workspace zone'
).split(' ');
const VERBS = 'get list create update delete patch search sync refresh verify cancel approve export import archive restore'.split(' ');
const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE'];
const TOP_DIRS = ['collections', 'specs', 'environments', 'design', 'teams', 'services', 'legacy', 'shared'];
const JSON_TYPES = ['string', 'integer', 'number', 'boolean', 'array', 'object'];
const FORMATS = ['uuid', 'date-time', 'email', 'uri', 'int64', 'int32', 'double'];
const STATUS = ['200', '201', '204', '400', '401', '403', '404', '409', '422', '500'];
const EPOCH = 1_672_531_200_000; // 2023-01-01; timestamps are seeded offsets from it, never Date.now()

const cap = (w) => w[0].toUpperCase() + w.slice(1);

function words(rng, lo, hi) {
  const n = rng.int(lo, hi);
  const out = [];
  for (let i = 0; i < n; i++) out.push(rng.pick(WORDS));
  return out;
}
const sentence = (rng, lo, hi) => cap(words(rng, lo, hi).join(' ')) + '.';
const paragraph = (rng) => Array.from({ length: rng.int(1, 4) }, () => sentence(rng, 6, 18)).join(' ');
const camel = (ws) => ws[0] + ws.slice(1).map(cap).join('');
const stamp = (rng) => EPOCH + rng.int(0, 400 * 86_400) * 1000 + rng.int(0, 999);

function urlPath(rng) {
  const segs = [`v${rng.int(1, 3)}`];
  const n = rng.int(1, 4);
  for (let i = 0; i < n; i++) segs.push(rng.chance(0.3) ? `{{ _.${camel(words(rng, 1, 2))}Id }}` : `${rng.pick(WORDS)}s`);
  return segs.join('/');
}

function samplePayload(rng, depth = 0) {
  const obj = {};
  const n = rng.int(2, depth === 0 ? 9 : 5);
  for (let i = 0; i < n; i++) {
    const key = camel(words(rng, 1, 3));
    const r = rng.next();
    if (r < 0.3) obj[key] = sentence(rng, 1, 8);
    else if (r < 0.45) obj[key] = rng.int(0, 100000);
    else if (r < 0.55) obj[key] = rng.chance(0.5);
    else if (r < 0.7) obj[key] = `${rng.hex(8)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(12)}`;
    else if (r < 0.85 && depth < 2) obj[key] = samplePayload(rng, depth + 1);
    else obj[key] = words(rng, 1, 5);
  }
  return obj;
}

function requestResource(rng, parentId) {
  const method = rng.pick(METHODS);
  const t = stamp(rng);
  const hasBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
  return {
    _id: `req_${rng.hex(32)}`,
    parentId,
    modified: t + rng.int(0, 9e8),
    created: t,
    url: `{{ _.baseUrl }}/${urlPath(rng)}`,
    name: `${cap(rng.pick(VERBS))} ${words(rng, 1, 3).join(' ')}`,
    description: rng.chance(0.6) ? paragraph(rng) : '',
    method,
    body: hasBody ? { mimeType: 'application/json', text: JSON.stringify(samplePayload(rng), null, 2) } : {},
    parameters: Array.from({ length: rng.int(0, 4) }, () => ({
      id: `pair_${rng.hex(32)}`,
      name: camel(words(rng, 1, 2)),
      value: rng.chance(0.5) ? String(rng.int(1, 500)) : rng.pick(WORDS),
      description: '',
      disabled: rng.chance(0.2),
    })),
    headers: [
      { name: 'Accept', value: 'application/json' },
      ...(hasBody ? [{ name: 'Content-Type', value: 'application/json' }] : []),
      ...Array.from({ length: rng.int(0, 3) }, () => ({ name: `X-${cap(rng.pick(WORDS))}-${cap(rng.pick(WORDS))}`, value: rng.hex(rng.int(8, 24)) })),
    ],
    authentication: rng.chance(0.7) ? { type: 'bearer', token: '{{ _.accessToken }}', prefix: '' } : {},
    metaSortKey: -t,
    isPrivate: false,
    settingStoreCookies: true,
    settingSendCookies: true,
    settingDisableRenderRequestBody: false,
    settingEncodeUrl: true,
    settingRebuildPath: true,
    settingFollowRedirects: 'global',
    _type: 'request',
  };
}

function environmentData(rng) {
  const data = { baseUrl: `https://${rng.pick(WORDS)}.${rng.pick(['example.com', 'internal.test', 'api.local'])}` };
  const n = rng.int(3, 14);
  for (let i = 0; i < n; i++) {
    data[camel(words(rng, 1, 3))] = rng.chance(0.4) ? rng.hex(rng.int(16, 48)) : rng.chance(0.5) ? rng.int(1, 9999) : words(rng, 1, 3).join('-');
  }
  return data;
}

function insomniaExport(rng, target) {
  const wrk = `wrk_${rng.hex(32)}`;
  const t0 = stamp(rng);
  const resources = [
    { _id: wrk, parentId: null, modified: t0, created: t0, name: `${cap(rng.pick(WORDS))} ${cap(rng.pick(WORDS))} API`, description: paragraph(rng), scope: 'collection', _type: 'workspace' },
    { _id: `env_${rng.hex(32)}`, parentId: wrk, modified: t0, created: t0, name: 'Base Environment', data: environmentData(rng), dataPropertyOrder: null, color: null, isPrivate: false, metaSortKey: t0, _type: 'environment' },
  ];
  let size = 400 + JSON.stringify(resources, null, 2).length;
  const folders = [wrk];
  while (size < target) {
    let res;
    if (rng.chance(0.12)) {
      const t = stamp(rng);
      res = { _id: `fld_${rng.hex(32)}`, parentId: rng.pick(folders), modified: t, created: t, name: cap(words(rng, 1, 2).join(' ')), description: '', environment: {}, environmentPropertyOrder: null, metaSortKey: -t, _type: 'request_group' };
      folders.push(res._id);
    } else {
      res = requestResource(rng, rng.pick(folders));
    }
    const len = JSON.stringify(res, null, 2).length + 4;
    // Stop short rather than overshoot, so the total lands near the requested size.
    if (size + len > target && resources.length > 2) break;
    resources.push(res);
    size += len;
  }
  const doc = { _type: 'export', __export_format: 4, __export_date: new Date(stamp(rng)).toISOString(), __export_source: 'insomnia.desktop.app:v2023.5.8', resources };
  return JSON.stringify(doc, null, 2) + '\n';
}

function environmentFile(rng) {
  const t = stamp(rng);
  const doc = { _id: `env_${rng.hex(32)}`, name: cap(rng.pick(['staging', 'production', 'local', 'qa', 'sandbox', 'preview'])), data: environmentData(rng), color: rng.chance(0.5) ? `#${rng.hex(6)}` : null, isPrivate: rng.chance(0.3), modified: t, created: t };
  return JSON.stringify(doc, null, 2) + '\n';
}

const yq = (s) => `'${s.replace(/'/g, "''")}'`;

function yamlSchemaLines(rng, name) {
  const lines = [`    ${name}:`, '      type: object', `      description: ${yq(sentence(rng, 4, 12))}`, '      properties:'];
  const n = rng.int(2, 10);
  for (let i = 0; i < n; i++) {
    const type = rng.pick(JSON_TYPES);
    lines.push(`        ${camel(words(rng, 1, 3))}:`, `          type: ${type}`);
    if (type === 'string' && rng.chance(0.5)) lines.push(`          format: ${rng.pick(FORMATS)}`);
    if (type === 'array') lines.push('          items:', `            $ref: '#/components/schemas/${cap(rng.pick(WORDS))}'`);
    if (rng.chance(0.6)) lines.push(`          description: ${yq(sentence(rng, 3, 10))}`);
    if (rng.chance(0.4)) lines.push(`          example: ${yq(type === 'string' ? rng.hex(rng.int(6, 20)) : String(rng.int(0, 1000)))}`);
  }
  return lines;
}

function yamlPathLines(rng) {
  const p = '/' + urlPath(rng).replace(/\{\{ _\.(\w+) \}\}/g, '{$1}');
  const lines = [`  ${p}:`];
  const methods = rng.sample(5, rng.int(1, 3)).map((i) => ['get', 'post', 'put', 'patch', 'delete'][i]);
  for (const m of methods) {
    lines.push(`    ${m}:`, `      operationId: ${camel([m, ...words(rng, 1, 3)])}${rng.int(1, 999)}`, `      summary: ${yq(sentence(rng, 3, 9))}`);
    if (rng.chance(0.5)) lines.push(`      description: ${yq(paragraph(rng))}`);
    lines.push(`      tags: [${words(rng, 1, 2).join(', ')}]`, '      parameters:');
    for (const param of p.match(/\{\w+\}/g) ?? []) {
      lines.push(`        - name: ${param.slice(1, -1)}`, '          in: path', '          required: true', '          schema:', '            type: string');
    }
    for (let i = rng.int(0, 3); i > 0; i--) {
      lines.push(`        - name: ${camel(words(rng, 1, 2))}`, '          in: query', `          required: ${rng.chance(0.2)}`, '          schema:', `            type: ${rng.pick(['string', 'integer', 'boolean'])}`);
    }
    if (m === 'post' || m === 'put' || m === 'patch') {
      lines.push('      requestBody:', '        required: true', '        content:', '          application/json:', '            schema:', `              $ref: '#/components/schemas/${cap(rng.pick(WORDS))}'`);
    }
    lines.push('      responses:');
    for (const code of rng.sample(STATUS.length, rng.int(1, 4)).map((i) => STATUS[i])) {
      lines.push(`        '${code}':`, `          description: ${yq(sentence(rng, 2, 6))}`);
      if (code !== '204') lines.push('          content:', '            application/json:', '              schema:', `                $ref: '#/components/schemas/${cap(rng.pick(WORDS))}'`);
    }
  }
  return lines;
}

function openapiYaml(rng, target) {
  const head = [
    'openapi: 3.0.3',
    'info:',
    `  title: ${yq(`${cap(rng.pick(WORDS))} ${cap(rng.pick(WORDS))} API`)}`,
    `  version: ${rng.int(0, 4)}.${rng.int(0, 20)}.${rng.int(0, 40)}`,
    `  description: ${yq(paragraph(rng))}`,
    'servers:',
    `  - url: https://${rng.pick(WORDS)}.example.com/api`,
    'paths:',
  ];
  const paths = [];
  const schemas = ['components:', '  schemas:'];
  let size = head.join('\n').length + 40;
  let n = 0;
  while (size < target) {
    // About two thirds paths, one third schemas, as in typical specs.
    const lines = rng.chance(0.67) ? yamlPathLines(rng) : yamlSchemaLines(rng, `${cap(rng.pick(WORDS))}${cap(rng.pick(WORDS))}${n++}`);
    let len = 0;
    for (const l of lines) len += l.length + 1;
    if (size + len > target && paths.length > 0) break;
    (lines[0].startsWith('  /') ? paths : schemas).push(...lines);
    size += len;
  }
  if (paths.length === 0) paths.push('  /health:', '    get:', '      responses:', "        '200':", '          description: ok');
  return [...head, ...paths, ...schemas].join('\n') + '\n';
}

function folderTree(rng, count) {
  const dirs = [...TOP_DIRS];
  while (dirs.length < count) {
    // Prefer shallow parents so the tree is bushy, as real workspaces are; cap depth at 6.
    const parent = dirs[Math.floor(dirs.length * rng.next() ** 2)];
    if (parent.split('/').length >= 6) continue;
    dirs.push(`${parent}/${rng.pick(WORDS)}-${dirs.length}`);
  }
  return dirs;
}

/**
 * Plan of the workspace: every file's path, kind and size target. Sizes: a few large OpenAPI
 * specs (1–3 MB, one per thousand files) and a log-normal body (σ = 1) scaled to the total.
 */
function plan(rng, files, totalBytes) {
  const dirs = folderTree(rng, Math.max(TOP_DIRS.length, Math.round(files / 16)));
  const large = Math.floor(files / 1000);
  const entries = [];
  let largeBytes = 0;
  for (let i = 0; i < files; i++) {
    const isLarge = i < large;
    const r = rng.next();
    const kind = isLarge ? 'openapi' : r < 0.55 ? 'export' : r < 0.85 ? 'openapi' : 'env';
    const dir = isLarge ? 'specs' : rng.pick(dirs);
    const base = `${rng.pick(WORDS)}-${rng.pick(WORDS)}-${i}`;
    const ext = kind === 'openapi' ? (rng.chance(0.85) ? 'yaml' : 'yml') : 'json';
    const weight = isLarge ? rng.int(1_000_000, 3_000_000) : Math.exp(rng.normal());
    if (isLarge) largeBytes += weight;
    entries.push({ path: `${dir}/${base}.${ext}`, kind, weight, isLarge });
  }
  const rest = entries.filter((e) => !e.isLarge && e.kind !== 'env');
  const envCount = entries.filter((e) => e.kind === 'env').length;
  const restBudget = Math.max(totalBytes - largeBytes - envCount * 700, rest.length * 1500);
  const weightSum = rest.reduce((s, e) => s + e.weight, 0);
  for (const e of entries) e.target = e.isLarge ? e.weight : e.kind === 'env' ? 0 : Math.max(1200, Math.round((e.weight / weightSum) * restBudget));
  return entries;
}

/**
 * Writes the workspace into `root` (which must exist) and returns its files.
 * @returns {{ path: string, kind: string, bytes: number }[]}
 */
export function generateWorkspace(root, { files, mb, seed }) {
  const rng = new Rng(seed);
  const entries = plan(rng, files, Math.round(mb * 1024 * 1024));
  const made = new Set();
  const out = [];
  for (const e of entries) {
    const text = e.kind === 'export' ? insomniaExport(rng, e.target) : e.kind === 'openapi' ? openapiYaml(rng, e.target) : environmentFile(rng);
    const abs = path.join(root, e.path);
    const dir = path.dirname(abs);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    writeFileSync(abs, text);
    out.push({ path: e.path, kind: e.kind, bytes: Buffer.byteLength(text) });
  }
  return out;
}

/**
 * Edits `count` files the way a user would (rename a request and add one, bump a spec's version
 * and add a schema, change an environment value). Deterministic for a seed.
 * @returns {string[]} the changed paths
 */
export function mutateFiles(root, files, { count, seed }) {
  const rng = new Rng((seed ^ 0x5eed5) >>> 0);
  const picked = rng.sample(files.length, count).map((i) => files[i]);
  for (const f of picked) {
    const abs = path.join(root, f.path);
    const text = readFileSync(abs, 'utf8');
    let next;
    if (f.kind === 'export') {
      const doc = JSON.parse(text);
      const req = doc.resources.find((r) => r._type === 'request');
      if (req) req.name = `${req.name} (edited ${rng.hex(6)})`;
      doc.resources.push(requestResource(rng, doc.resources[0]._id));
      next = JSON.stringify(doc, null, 2) + '\n';
    } else if (f.kind === 'env') {
      const doc = JSON.parse(text);
      doc.data.accessToken = rng.hex(40);
      doc.modified += 1000;
      next = JSON.stringify(doc, null, 2) + '\n';
    } else {
      next = text.replace(/^ {2}version: .*$/m, `  version: ${rng.int(5, 9)}.${rng.int(0, 99)}.${rng.int(0, 99)}`);
      next += yamlSchemaLines(rng, `Edited${rng.hex(8)}`).join('\n') + '\n';
    }
    writeFileSync(abs, next);
  }
  return picked.map((f) => f.path);
}
