import type { FastifyInstance } from 'fastify';
import { parseId } from '../forms.js';
import { setFlash } from '../render.js';

type EntryParams = { Params: { number: string; id: string } };

/** An agent's decision about an entry from someone not on the ticket (tickets/non-participant-entries.ts). */
export async function entryRoutes(app: FastifyInstance): Promise<void> {
  const { nonParticipantEntries } = app.services;

  app.post<EntryParams>('/tickets/:number/entries/:id/add-collaborator', async (request, reply) => {
    const { number } = request.params;
    await nonParticipantEntries.addSenderAsCollaborator(request.staff!, number, parseId(request.params.id));
    setFlash(reply, { type: 'success', message: 'The sender is now a collaborator on this ticket.' });
    return reply.redirect(`/scp/tickets/${number}`);
  });

  app.post<EntryParams>('/tickets/:number/entries/:id/move', async (request, reply) => {
    const moved = await nonParticipantEntries.moveToNewTicket(request.staff!, request.params.number, parseId(request.params.id));
    setFlash(reply, { type: 'success', message: `The message was moved to the new ticket #${moved.number}.` });
    return reply.redirect(`/scp/tickets/${moved.number}`);
  });
}
