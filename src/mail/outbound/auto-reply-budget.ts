import { normaliseEmail } from '../../users/email.js';
import type { RateLimiter } from '../../rate-limits/rate-limiter.js';

/**
 * RFC 3834 §2: answer one address at most a few times an hour, so that two auto-responders cannot ping-pong,
 * and so that nobody can use the portal, the API or the mail listener to send a stranger an unlimited number
 * of confirmations carrying text of their choosing. Every source's confirmation goes through here.
 */
export class AutoReplyBudget {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly perHour: number,
  ) {}

  /** Whether one more automatic mail to this address is allowed now; when it is, it is counted. */
  async take(address: string): Promise<boolean> {
    const decision = await this.limiter.take({ scope: 'auto-reply', max: this.perHour, windowMs: 3600_000 }, normaliseEmail(address));
    return decision.allowed;
  }
}
