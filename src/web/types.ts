import type { Services } from '../services.js';
import type { StaffPrincipal } from '../staff/staff.js';
import type { ClientPrincipal } from '../tickets/ticket.js';
import type { ApiPrincipal } from '../api-keys/api-key-service.js';
import type { Csrf } from './plugins/csrf.js';

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
    csrf: Csrf;
    asset: (path: string) => string;
  }
  interface FastifyRequest {
    staff: StaffPrincipal | null;
    client: ClientPrincipal | null;
    apiPrincipal: ApiPrincipal | null;
  }
}

export {};
