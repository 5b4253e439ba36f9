import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import { isTransient } from '../../mail/inbound/intake-service.js';

const Outcome = Type.Object({
  status: Type.String({ description: 'ticket | reply | bounce | dropped | quarantined | duplicate' }),
  number: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
});

const ErrorJson = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
});

/**
 * POST /api/tickets.email: one raw RFC 822 message, for sites whose own MTA pipes mail to us. The same
 * intake as the SMTP listener; the mailbox comes from the message's delivery headers. 201 for a new ticket,
 * 200 for a reply or a duplicate, 202 for what was kept without a ticket; 503 means "deliver again later".
 */
export async function apiEmailRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { intake, config } = app.services;
  // Registered in this route's own context, so no other API route starts accepting raw bodies.
  app.addContentTypeParser(['message/rfc822', 'text/plain', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: config.smtp.maxMessageBytes }, (_request, body, done) => done(null, body));

  app.post('/tickets.email', { schema: { response: { '2xx': Outcome, '4xx': ErrorJson } } }, async (request, reply) => {
    const raw = request.body;
    if (!Buffer.isBuffer(raw) || !raw.length) {
      throw new AppError('EMPTY_MESSAGE', 'validation', 'errors.api.empty_message');
    }
    const outcome = await intake.deliver(raw, { mailbox: null, envelopeFrom: null, source: 'api', remoteAddress: request.ip }).catch((err: unknown) => {
      if (isTransient(err) && !(err instanceof AppError)) throw new AppError('TEMPORARY_FAILURE', 'unavailable', 'errors.api.temporary_failure');
      throw err;
    });
    switch (outcome.status) {
      case 'ticket':
        return reply.code(201).send({ status: outcome.status, number: outcome.ticketNumber });
      case 'reply':
        return reply.code(200).send({ status: outcome.status, number: outcome.ticketNumber });
      case 'duplicate':
        return reply.code(200).send({ status: outcome.status });
      case 'dropped':
        return reply.code(202).send({ status: outcome.status, reason: outcome.reason });
      default:
        return reply.code(202).send({ status: outcome.status });
    }
  });
}
