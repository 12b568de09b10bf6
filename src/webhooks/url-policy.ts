import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { DomainException } from '../common/errors/domain.exception';

/**
 * Addresses a webhook may never reach (unless WEBHOOK_ALLOW_PRIVATE_URLS=true): loopback,
 * private, link-local, and the other ranges that are not the public internet (unspecified,
 * carrier-grade NAT, multicast, reserved, IPv6 unique-local and the IPv4-mapped forms).
 */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for, if it is one. */
function unmapped(address: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** True for an address of a forbidden range. */
export function isForbiddenAddress(address: string): boolean {
  const v4 = isIP(address) === 4 ? address : unmapped(address);
  if (v4) return FORBIDDEN.check(v4, 'ipv4');
  return isIP(address) === 6 ? FORBIDDEN.check(address, 'ipv6') : true;
}

export function urlNotAllowed(detail: string): DomainException {
  return new DomainException('URL_NOT_ALLOWED', detail);
}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );
}

/** The host of a URL as a resolver or an address check takes it (IPv6 without brackets). */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Checks a webhook URL when an endpoint is created: http or https, and (unless private
 * targets are allowed) a host whose EVERY address is public. A host that does not resolve is
 * refused too: nothing could be delivered to it.
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean): Promise<void> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw urlNotAllowed(`${raw} is not an absolute URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw urlNotAllowed(`${url.protocol.slice(0, -1)} URLs are not allowed: use http or https.`);
  }
  if (url.username || url.password) {
    throw urlNotAllowed('A webhook URL may not carry a user name or password.');
  }
  if (allowPrivate) return;
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await resolveAll(host)).map((a) => a.address);
    } catch {
      throw urlNotAllowed(`${host} does not resolve to an address.`);
    }
  }
  const forbidden = addresses.find(isForbiddenAddress);
  if (forbidden !== undefined) {
    throw urlNotAllowed(
      `${raw} resolves to ${forbidden}, a loopback, private or link-local address.`,
    );
  }
}

/**
 * A `lookup` for http(s).request that refuses forbidden addresses at connection time: the
 * address actually connected to is checked, so a name that resolved to a public address when
 * the endpoint was created and to a private one now (DNS rebinding) is not reached.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const forbidden = allowPrivate
        ? undefined
        : addresses.find((a) => isForbiddenAddress(a.address));
      if (forbidden) {
        const refused = Object.assign(
          new Error(`${hostname} resolves to ${forbidden.address}, a forbidden address`),
          { code: 'URL_NOT_ALLOWED' },
        );
        return callback(refused, '', 0);
      }
      if (options.all) {
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      }
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** For a delivery: a URL whose host is an IP literal is never looked up, so check it here. */
export function literalHostForbidden(raw: string): boolean {
  const host = hostOf(new URL(raw));
  return isIP(host) !== 0 && isForbiddenAddress(host);
}
