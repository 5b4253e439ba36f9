import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { PRIORITIES } from '../../tickets/ticket.js';
import { NewTicketBody, decodeAttachments, messageText } from './osticket.js';

const Ref = Type.Object({ id: Type.Integer(), name: Type.String() });
const NullableRef = Type.Union([Ref, Type.Null()]);

const Created = Type.Object({ number: Type.String(), status: Type.String(), url: Type.String() });

/** The response schema doubles as an allow-list: nothing outside it reaches the caller. */
const TicketJson = Type.Object({
  number: Type.String(),
  subject: Type.String({ description: 'as stored: "" for a ticket opened from a mail without a subject (the pages name that in the reader\'s language)' }),
  status: Type.String({ description: 'open | resolved | closed | spam' }),
  priority: Type.Object({ id: Type.Integer(), name: Type.String() }),
  department: Ref,
  topic: NullableRef,
  assignee: NullableRef,
  requester: Type.Object({ name: Type.String(), email: Type.String() }),
  source: Type.String(),
  isAnswered: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  closedAt: Type.Union([Type.String(), Type.Null()]),
  mergedInto: Type.Union([Type.String(), Type.Null()], { description: 'the number of the ticket this one was merged into, which holds its thread now' }),
  thread: Type.Array(Type.Object({
    id: Type.Integer(),
    type: Type.String({ description: 'message | response | note' }),
    author: Type.Object({ kind: Type.String({ description: 'staff | user | system' }), name: Type.String({ description: 'as stored: "" for a system note, which systemKind names' }) }),
    systemKind: Type.Union([Type.Literal('bounce'), Type.Null()], { description: 'a note the system wrote: bounce (a delivery report for mail about the ticket; body is the report); null for entries people wrote' }),
    body: Type.String({ description: 'the text as stored: "" for a mail without text' }),
    bodyTruncated: Type.Boolean({ description: 'body is the start of a longer mail text; the raw message keeps all of it' }),
    source: Type.String(),
    verification: Type.Union([Type.Literal('verified'), Type.Literal('unverified'), Type.Literal('suspicious'), Type.Null()], {
      description: 'how the sender of a mail was verified: verified (answered our mail to that address, or SPF/DKIM pass from a trusted server), unverified, suspicious (a staff address from outside without proof); null when not from mail',
    }),
    fromNonParticipant: Type.Boolean({ description: 'a mail from someone who is neither requester, collaborator nor agent of the ticket' }),
    createdAt: Type.String(),
    attachments: Type.Array(Type.Object({ id: Type.Integer(), filename: Type.String(), contentType: Type.String(), size: Type.Integer() })),
  })),
});

const ErrorJson = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
});

export async function apiTicketRoutes(parent: FastifyInstance): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { tickets, config } = app.services;

  app.post('/tickets.json', {
    // The one JSON route with files in it (base64 data URLs): room for every attachment at its cap. The key is
    // checked in onRequest, before any of it is read.
    bodyLimit: Math.ceil(config.attachments.maxFileBytes * config.attachments.maxFiles * 1.4) + config.http.bodyLimitBytes,
    schema: { body: NewTicketBody, response: { 201: Created, '4xx': ErrorJson } },
  }, async (request, reply) => {
    const body = request.body;
    const attachments = decodeAttachments(body.attachments, config.attachments);
    const message = messageText(body.message);
    // Field errors come back naming each field (jsonErrorHandler), as osTicket clients expect.
    const { ticket } = await tickets.create(null, {
      name: body.name ?? '',
      email: body.email,
      subject: body.subject,
      message,
      topicId: body.topicId ?? null,
      priority: body.priority ?? null,
      source: 'api',
      attachments,
      // osTicket's `autorespond: false` suppresses the requester's confirmation; `alert` (staff alerts) is the mail issue's.
      notifyRequester: body.autorespond !== false,
    });
    request.log.info({ ticketId: ticket.id, apiKeyId: request.apiPrincipal?.keyId }, 'ticket opened through the API');
    return reply.code(201).send({ number: ticket.number, status: ticket.status, url: `/api/v1/tickets/${ticket.number}` });
  });

  app.get('/v1/tickets/:number', {
    schema: { params: Type.Object({ number: Type.String() }), response: { 200: TicketJson, '4xx': ErrorJson } },
  }, async (request) => {
    const { ticket: t, entries } = await tickets.viewForIntegration(request.apiPrincipal!, request.params.number);
    return {
      number: t.number,
      subject: t.subject,
      status: t.status,
      priority: { id: t.priority, name: PRIORITIES[t.priority] },
      department: { id: t.departmentId, name: t.departmentName },
      topic: t.topicId !== null ? { id: t.topicId, name: t.topicName ?? '' } : null,
      assignee: t.assigneeId !== null ? { id: t.assigneeId, name: t.assigneeName ?? '' } : null,
      requester: { name: t.requesterName, email: t.requesterEmail },
      source: t.source,
      isAnswered: t.isAnswered,
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
      closedAt: t.closedAt ? t.closedAt.toISOString() : null,
      mergedInto: await app.services.merges.survivorOf(t),
      thread: entries.map((e) => ({
        id: e.id,
        type: e.type,
        author: { kind: e.staffId !== null ? 'staff' : e.userId !== null ? 'user' : 'system', name: e.authorName },
        systemKind: e.systemKind,
        body: e.bodyText,
        bodyTruncated: e.bodyTruncated,
        source: e.source,
        verification: e.verification,
        fromNonParticipant: e.fromNonParticipant,
        createdAt: e.createdAt.toISOString(),
        attachments: e.attachments.map((a) => ({ id: a.id, filename: a.filename, contentType: a.contentType, size: a.size })),
      })),
    };
  });
}
