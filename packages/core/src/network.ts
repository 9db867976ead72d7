/**
 * IP networks for `in_network` / `not_in_network`. A policy lists CIDRs (`10.0.0.0/8`,
 * `fc00::/7`) or single addresses, checked when it loads. An argument's host comes from
 * `extractHost`, which canonicalises it with the WHATWG URL parser, so `2130706433`, `0x7f.1`,
 * `0177.0.0.1` and `127.1` are all 127.0.0.1 here. IPv4 is a 32-bit unsigned number, IPv6 a
 * 128-bit BigInt. Host names are never resolved: `example.com` is in no network.
 */
import { canonicalHost, extractHost } from './domain.js';

export type IpAddress =
  | { readonly version: 4; readonly value: number }
  | { readonly version: 6; readonly value: bigint };

export type IpNetwork =
  | { readonly version: 4; readonly base: number; readonly prefix: number }
  | { readonly version: 6; readonly base: bigint; readonly prefix: number };

/** Networks compiled for membership tests: masks computed once, families kept apart. */
export interface NetworkSet {
  contains(address: IpAddress): boolean;
}

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;
const PREFIX = /^(?:0|[1-9][0-9]{0,2})$/;
const MAPPED_HIGH = 0xffffn;
const LOW_32 = 0xffffffffn;

/** Strict dotted decimal (`10.0.0.1`): four octets, no leading zeros, nothing else. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** RFC 4291 text (`fc00::1`, `::ffff:10.0.0.1`), without brackets or a zone (`%eth0`). */
export function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  const head = groupsOf(halves[0]!, !compressed);
  const tail = compressed ? groupsOf(halves[1]!, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const count = head.length + tail.length;
  // `::` stands for at least one group of zeros.
  if (compressed ? count > 7 : count !== 8) return undefined;
  let value = 0n;
  for (const group of [...head, ...new Array<number>(8 - count).fill(0), ...tail]) {
    value = (value << 16n) | BigInt(group);
  }
  return value;
}

/** The 16-bit groups of one side of `::`; an embedded IPv4 may end the address only. */
function groupsOf(half: string, endsAddress: boolean): number[] | undefined {
  if (half === '') return [];
  const pieces = half.split(':');
  const groups: number[] = [];
  for (const [index, piece] of pieces.entries()) {
    if (endsAddress && index === pieces.length - 1 && piece.includes('.')) {
      const ipv4 = parseIpv4(piece);
      if (ipv4 === undefined) return undefined;
      groups.push(Math.floor(ipv4 / 0x10000), ipv4 % 0x10000);
    } else if (HEX_GROUP.test(piece)) {
      groups.push(Number.parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/**
 * The IP address an argument names, or `undefined` for a host name or text without a host.
 * Takes a URL (`http://[::1]:8080/x`), a bare host (`10.0.0.1`, `0x7f.1`) or a bare IPv6
 * address (`fd00::1`, which would otherwise read as host `fd00`, port `:1`).
 */
export function addressOf(text: string): IpAddress | undefined {
  const host = bareIpv6(text) ?? extractHost(text);
  if (host === undefined) return undefined;
  if (host.startsWith('[')) {
    const value = parseIpv6(host.slice(1, -1));
    return value === undefined ? undefined : { version: 6, value };
  }
  // The URL parser serialises every IPv4 spelling as dotted decimal; any other host is a name.
  const value = parseIpv4(host);
  return value === undefined ? undefined : { version: 4, value };
}

function bareIpv6(text: string): string | undefined {
  const trimmed = text.trim();
  if (!/^[0-9a-f:.]+$/i.test(trimmed) || trimmed.indexOf(':') === trimmed.lastIndexOf(':')) {
    return undefined;
  }
  return canonicalHost(`[${trimmed}]`);
}

/**
 * The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`)
 * IPv6 address: clients connect to it over IPv4. `::` and `::1` are IPv6's own unspecified and
 * loopback addresses, not compatible ones.
 */
export function embeddedIpv4(value: bigint): number | undefined {
  const high = value >> 32n;
  if (high === MAPPED_HIGH || (high === 0n && value > 1n)) return Number(value & LOW_32);
  return undefined;
}

/**
 * A policy's network: `10.0.0.0/8`, `fc00::/7`, or an address alone (`/32`, `/128`). Refused,
 * with the reason: host names, other IPv4 spellings (`127.1`, `010.0.0.1`), zones, prefixes out
 * of range and host bits set after the prefix (`10.0.0.1/8`).
 */
export function policyNetwork(text: string): { network: IpNetwork } | { problem: string } {
  const slash = text.indexOf('/');
  let address = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const version = address.includes(':') ? 6 : 4;
  const width = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (prefixText !== undefined && (!PREFIX.test(prefixText) || prefix > width)) {
    return {
      problem: `"${text}" has an invalid prefix length; an IPv${version} prefix is a whole number from 0 to ${width}`,
    };
  }
  if (version === 4) {
    const base = parseIpv4(address);
    if (base === undefined) return { problem: notAnAddress(text, address) };
    const masked = base & ipv4Mask(prefix);
    if (masked >>> 0 !== base) {
      return { problem: hostBitsSet(text, `${formatIpv4(masked >>> 0)}/${prefix}`) };
    }
    return { network: { version, base, prefix } };
  }
  const base = parseIpv6(address);
  if (base === undefined) return { problem: notAnAddress(text, address) };
  const masked = base & ipv6Mask(prefix);
  if (masked !== base) return { problem: hostBitsSet(text, `${formatIpv6(masked)}/${prefix}`) };
  return { network: { version, base, prefix } };
}

function notAnAddress(text: string, address: string): string {
  if (/[g-z]/i.test(address) && !address.includes(':')) {
    return `"${text}" is a host name; in_network takes IP addresses and networks such as "10.0.0.0/8" (use in_domain for names)`;
  }
  return `"${text}" is not an IP address or network; write e.g. "10.0.0.0/8", "fc00::/7" or "127.0.0.1" (IPv4 as four decimal numbers without leading zeros)`;
}

function hostBitsSet(text: string, network: string): string {
  return `"${text}" has bits set after the prefix length; write the network's first address, "${network}"`;
}

/**
 * Compiles networks once. An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) also covers the
 * IPv4 addresses it maps; an IPv6 argument that embeds an IPv4 address is also tested as that
 * address.
 */
export function compileNetworks(networks: readonly IpNetwork[]): NetworkSet {
  const ipv4: { base: number; mask: number }[] = [];
  const ipv6: { base: bigint; mask: bigint }[] = [];
  for (const network of networks) {
    if (network.version === 4) {
      ipv4.push({ base: network.base, mask: ipv4Mask(network.prefix) });
      continue;
    }
    ipv6.push({ base: network.base, mask: ipv6Mask(network.prefix) });
    if (network.prefix >= 96 && network.base >> 32n === MAPPED_HIGH) {
      const prefix = network.prefix - 96;
      ipv4.push({ base: Number(network.base & LOW_32), mask: ipv4Mask(prefix) });
    }
  }
  const inIpv4 = (value: number) => {
    for (const { base, mask } of ipv4) if ((value & mask) >>> 0 === base) return true;
    return false;
  };
  return {
    contains(address) {
      if (address.version === 4) return inIpv4(address.value);
      for (const { base, mask } of ipv6) if ((address.value & mask) === base) return true;
      const embedded = embeddedIpv4(address.value);
      return embedded !== undefined && inIpv4(embedded);
    },
  };
}

/** The mask of an IPv4 prefix as a signed 32-bit number (compare after `>>> 0`). */
function ipv4Mask(prefix: number): number {
  // `x << 32` shifts by 0 in JavaScript: /0 needs its own case.
  return prefix === 0 ? 0 : -1 << (32 - prefix);
}

function ipv6Mask(prefix: number): bigint {
  return ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/** Canonical IPv6 text (RFC 5952: lower case, longest run of zero groups as `::`). */
export function formatIpv6(value: bigint): string {
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) {
    groups.push(((value >> shift) & 0xffffn).toString(16));
  }
  const host = canonicalHost(`[${groups.join(':')}]`);
  return host === undefined ? groups.join(':') : host.slice(1, -1);
}
