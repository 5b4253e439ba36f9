import { BlockList, isIP } from 'node:net';

/**
 * The site's own relays (addresses or CIDR networks), exempt from the per-address connection cap: all mail a
 * relay forwards arrives from its one address, and a stock Postfix opens up to 20 connections to a destination
 * and defers the whole destination for minutes when one of them is refused.
 */
export class TrustedRelays {
  private constructor(private readonly list: BlockList, readonly size: number) {}

  /** Throws an Error naming the first entry that is neither an IP address nor an address/prefix network. */
  static parse(entries: readonly string[]): TrustedRelays {
    const list = new BlockList();
    for (const raw of entries) {
      const entry = raw.trim();
      const [address = '', prefix, extra] = entry.split('/');
      const family = isIP(address);
      const bits = family === 4 ? 32 : 128;
      if (!family || extra !== undefined || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits))) {
        throw new Error(`"${entry}" is not an IP address or a network such as 10.0.0.0/24`);
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(prefix), type);
    }
    return new TrustedRelays(list, entries.length);
  }

  /** smtp-server reports IPv4 clients of a dual-stack socket as a.b.c.d, so both families are checked as given. */
  has(address: string): boolean {
    const family = isIP(address);
    if (!family) return false;
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}
