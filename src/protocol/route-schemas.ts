/**
 * Every route's schemas in one table (docs/protocol.md §3): the server declares them on its routes
 * (fastify validates requests and serialises answers with them), and the client checks each JSON
 * answer it reads against the same answer schema (response-validators.generated.ts, made from
 * this table by scripts/generate-validators.mjs). A route without an entry here does not compile.
 *
 * An answer schema requires only what every server of this protocol revision sends: a field added
 * to an answer without a new revision (docs/protocol.md §1.1) is optional here, §3 says what its
 * absence means, and the client reads it so (src/client/api.ts). test/protocol/revision-2-answers.ts
 * holds what revision 2 required, and the tests fail on a schema that requires more.
 */
import { accountSchemas } from './account-schemas.js';
import type { RouteName } from './routes.js';
export { answerValidatorName } from './routes.js';
import { schemas } from './schemas.js';
import { teamSchemas } from './team-schemas.js';
import { tokenSchemas } from './token-schemas.js';

export const ROUTE_SCHEMAS = { ...schemas, ...accountSchemas, ...teamSchemas, ...tokenSchemas } satisfies Record<
  RouteName,
  { response: Record<number, object> }
>;

/**
 * Routes whose successful answer is not JSON but frames (docs/protocol.md §3.15, §3.17, §3.18),
 * which the client asks for and checks on their own (blob-frames.ts, snapshot-frames.ts).
 */
export const FRAME_ANSWER_ROUTES: readonly RouteName[] = ['fetchBlobs', 'listSnapshots', 'getSnapshot'];

/**
 * The JSON answers a client reads: each route's 2xx statuses that have a body (not 204's null),
 * but for the frame-answer routes. The validators are generated for exactly these.
 */
export function jsonAnswerSchemas(): { route: RouteName; status: number; schema: object }[] {
  const out: { route: RouteName; status: number; schema: object }[] = [];
  for (const [route, { response }] of Object.entries(ROUTE_SCHEMAS) as [RouteName, { response: Record<number, object> }][]) {
    if (FRAME_ANSWER_ROUTES.includes(route)) continue;
    for (const [status, schema] of Object.entries(response)) {
      if (Number(status) >= 200 && Number(status) < 300 && (schema as { type?: unknown }).type !== 'null') out.push({ route, status: Number(status), schema });
    }
  }
  return out;
}
