/**
 * Checks a JSON answer against its route's answer schema (route-schemas.ts), with the validators
 * generated from those schemas at build time (response-validators.generated.ts): no schema is
 * compiled when the CLI runs. The server is not trusted (docs/protocol.md §1, §7.2): an answer is
 * used only once it has the protocol's shape, and what is wrong is said without the server's values.
 */
import * as generated from './response-validators.generated.js';
import { answerValidatorName, type RouteName } from './routes.js';

/** ajv's error object, as the generated code fills it: never the data it looked at. */
interface ValidationError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
}
type Validator = ((data: unknown) => boolean) & { errors?: ValidationError[] | null };

const VALIDATORS = generated as unknown as Record<string, Validator | undefined>;

/** Whether the client can check `route`'s answer with `status` (one of its 2xx answers with a JSON body). */
export function hasAnswerCheck(route: RouteName, status: number): boolean {
  return typeof VALIDATORS[answerValidatorName(route, status)] === 'function';
}

/**
 * null when `answer` (parsed JSON) follows the protocol for `route` answered with `status`; else
 * the first thing wrong, as `path: what` (`workspaces[0].id: must be string`). The path names
 * only fields of the schema and array positions, and `what` only the schema's own terms.
 */
export function answerProblem(route: RouteName, status: number, answer: unknown): string | null {
  const validate = VALIDATORS[answerValidatorName(route, status)];
  if (validate === undefined) return `status ${status} is not an answer of this route`;
  if (validate(answer)) return null;
  const error = validate.errors?.[0];
  if (error === undefined) return 'the answer: does not fit';
  return described(error);
}

function described({ instancePath, keyword, params }: ValidationError): string {
  if (keyword === 'required') return `${fieldPath(instancePath, String(params.missingProperty))}: is missing`;
  return `${fieldPath(instancePath)}: ${problem(keyword, params)}`;
}

function problem(keyword: string, params: Record<string, unknown>): string {
  switch (keyword) {
    case 'type':
      return `must be ${String(params.type).split(',').join(' or ')}`;
    case 'pattern':
      return `must match ${String(params.pattern)}`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'minimum':
    case 'maximum':
      return `must be ${String(params.comparison)} ${String(params.limit)}`;
    case 'maxItems':
      return `must have at most ${String(params.limit)} items`;
    default:
      return `breaks the schema's ${keyword}`;
  }
}

/** A JSON pointer (`/workspaces/0/id`) as a reader writes it (`workspaces[0].id`); the whole answer as `the answer`. */
function fieldPath(pointer: string, last?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (last !== undefined) parts.push(last);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? 'the answer' : out;
}
