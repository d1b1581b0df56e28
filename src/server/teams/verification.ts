/** Account activation: a code mailed at signup (and on request), redeemed by `account verify CODE`. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { ApiError, unauthorized } from '../errors.js';
import { ACTIVATION_MAIL_CAPS, codeHash, newCode, VERIFY_CODE_TTL_MS } from './codes.js';
import { mailFailure } from '../mail/mailer.js';
import { utcMinute } from '../plugins/auth.js';
import { activationMail } from './mail.js';

/** The answer (503 `unavailable`) to `account verify --resend` when the mail could not be sent. */
export const MAIL_NOT_SENT = 'could not send the mail; try again later';

/**
 * Stores a fresh code (replacing any earlier one) and mails it. A mail failure is logged, not
 * thrown: the account exists either way (signup says `activationMailSent: false`), and
 * `account verify --resend` sends another code. Returns whether the mail went out. The signup's
 * mail counts toward ACTIVATION_MAIL_CAPS (once sent) but is never refused (a new account has sent none).
 * An account deleted meanwhile gets no mail: 401, as a request after the deletion.
 */
export async function sendActivation(ctx: ServerContext, request: FastifyRequest, user: { id: string; email: string }): Promise<boolean> {
  const at = ctx.now();
  if (!(await ctx.store.recordActivationMail(user.id, at, [])).ok) throw unauthorized();
  return mailCode(ctx, request, user, at);
}

/**
 * `account verify --resend`: as sendActivation, but refused with 429 `rate_limited` (and a
 * Retry-After) once ACTIVATION_MAIL_CAPS are reached, saying when the next mail can go.
 */
export async function resendActivation(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, user: { id: string; email: string }): Promise<boolean> {
  const now = ctx.now();
  const caps = ACTIVATION_MAIL_CAPS.map((c) => ({ max: c.max, since: new Date(now.getTime() - c.windowMs) }));
  const recorded = await ctx.store.recordActivationMail(user.id, now, caps);
  // deleted after the route looked it up: as a request after the deletion
  if (!recorded.ok && recorded.reason === 'no_user') throw unauthorized();
  if (!recorded.ok) {
    const cap = ACTIVATION_MAIL_CAPS[recorded.cap]!;
    const next = new Date(Math.max(recorded.oldest.getTime() + cap.windowMs, now.getTime() + 1000));
    void reply.header('retry-after', String(Math.ceil((next.getTime() - now.getTime()) / 1000)));
    throw new ApiError(
      'rate_limited',
      `${cap.max} activation mails were sent to your address in the last ${cap.per}, the most allowed per ${cap.per}; the next can be sent after ${utcMinute(new Date(Math.ceil(next.getTime() / 60_000) * 60_000))}`,
    );
  }
  return mailCode(ctx, request, user, now);
}

/**
 * Mails a new code under the cap record taken at `recordedAt`. The record is taken before
 * sending, in one transaction with the cap check, so concurrent requests cannot exceed the cap;
 * a mail that is not sent gives it back: only mails handed to the mailer count.
 */
async function mailCode(ctx: ServerContext, request: FastifyRequest, user: { id: string; email: string }, recordedAt: Date): Promise<boolean> {
  let sent = false;
  try {
    const code = newCode();
    const expiresAt = new Date(ctx.now().getTime() + VERIFY_CODE_TTL_MS);
    // deleted since its mail was recorded (the record went with it): no code to send
    if (!(await ctx.store.setEmailVerification(user.id, user.email, codeHash(code), expiresAt)).ok) throw unauthorized();
    try {
      await ctx.mailer.send(activationMail(user.email, code, expiresAt));
      sent = true;
    } catch (err) {
      request.log.warn({ mail: mailFailure(ctx.mailer, err) }, 'activation mail not sent');
    }
    return sent;
  } finally {
    if (!sent) {
      await ctx.store.releaseActivationMail(user.id, recordedAt).catch((err: unknown) => {
        request.log.warn({ err }, 'could not take back the record of an activation mail not sent');
      });
    }
  }
}
