/** Account activation: a code mailed at signup (and on request), redeemed by `account verify CODE`. */
import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { codeHash, newCode, VERIFY_CODE_TTL_MS } from './codes.js';
import { mailFailure } from '../mail/mailer.js';
import { activationMail } from './mail.js';

/** The answer (503 `unavailable`) to `account verify --resend` when the mail could not be sent. */
export const MAIL_NOT_SENT = 'could not send the mail; try again later';

/**
 * Stores a fresh code (replacing any earlier one) and mails it. A mail failure is logged, not
 * thrown: the account exists either way (signup says `activationMailSent: false`), and
 * `account verify --resend` sends another code. Returns whether the mail went out.
 */
export async function sendActivation(ctx: ServerContext, request: FastifyRequest, user: { id: string; email: string }): Promise<boolean> {
  const code = newCode();
  const expiresAt = new Date(ctx.now().getTime() + VERIFY_CODE_TTL_MS);
  await ctx.store.setEmailVerification(user.id, user.email, codeHash(code), expiresAt);
  try {
    await ctx.mailer.send(activationMail(user.email, code, expiresAt));
    return true;
  } catch (err) {
    request.log.warn({ mail: mailFailure(ctx.mailer, err) }, 'activation mail not sent');
    return false;
  }
}
