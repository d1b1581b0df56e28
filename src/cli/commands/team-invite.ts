import { readFileSync } from 'node:fs';
import type { ClientContext } from '../../client/context.js';
import { UsageError } from '../../client/errors.js';
import { invite, parseAddressList } from '../../client/services/teams.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { shown } from '../shown-text.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The team as given, quoted only when a shell needs it, so the printed next step can be pasted. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9._@%+=:,\/-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export async function run(ctx: ClientContext, out: Output, args: unknown[], opts: Record<string, unknown>): Promise<number> {
  const given = (args[0] as string[] | undefined) ?? [];
  const emails = given.filter((e) => e !== '-');
  const fromFile = opts.fromFile as string | undefined;
  if (fromFile === '-' || given.includes('-')) emails.push(...parseAddressList(await readStdin()));
  else if (fromFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(fromFile, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${fromFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    emails.push(...parseAddressList(text));
  }
  if (emails.length === 0) throw new UsageError('no addresses to invite', 'give EMAIL arguments, --from-file FILE, or - for standard input');
  const role = (opts.role as string | undefined) ?? 'member';
  if (role !== 'member' && role !== 'admin') throw new UsageError('--role is member or admin');
  const res = await invite(ctx, { team: opts.team as string, emails, role });
  for (const f of res.failed) out.warn(`not invited: ${shown(f.email)}: ${shown(f.reason)}`);
  out.result(res, () => [
    `${out.green('✓')} Invited ${res.invited.length} address(es) to ${out.bold(shown(res.team))} as ${res.role}${res.failed.length ? `; ${res.failed.length} failed` : ''}`,
    ...res.invited.map((i) => `  ${shown(i.email)}`),
    ...(res.invited.length ? [`  They run \`insomnia-sync team accept CODE\`; then you run \`insomnia-sync team confirm EMAIL --team ${shellWord(opts.team as string)}\`.`] : []),
  ]);
  // the rest went out; a script still learns that some did not
  return res.failed.length > 0 ? EXIT.failure : EXIT.ok;
}
