/**
 * Properties of `in_network` over generated addresses and networks (fixed seeds, so CI is
 * repeatable): membership agrees with a naive reference that compares bit strings, every
 * spelling of an IPv4 address the URL parser accepts lands in the same networks, and
 * `not_in_network` is the complement of `in_network` for any present text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, validatePolicy } from './index.js';
import {
  addressOf,
  compileNetworks,
  formatIpv4,
  formatIpv6,
  type IpNetwork,
  parseIpv6,
  policyNetwork,
} from './network.js';

const RUNS = { seed: 20240611, numRuns: 300 };

const ipv4 = fc.integer({ min: 0, max: 0xffffffff });
const MAPPED = 0xffffn << 32n;
/** Any IPv6 address, with IPv4-mapped and IPv4-compatible ones well represented. */
const ipv6 = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  ipv4.map((value) => MAPPED | BigInt(value)),
  ipv4.map((value) => BigInt(value)),
);

function bits(value: number | bigint, width: number): string {
  return value.toString(2).padStart(width, '0');
}

/** The reference: an address is in a network when their first `prefix` bits are equal. */
function naiveContains(address: string, base: string, prefix: number): boolean {
  return address.slice(0, prefix) === base.slice(0, prefix);
}

/** A network around `value`: its first address, written as a policy would. */
function networkText(value: number | bigint, prefix: number, version: 4 | 6): string {
  if (version === 4) {
    const mask = prefix === 0 ? 0 : (-1 << (32 - prefix)) >>> 0;
    return `${formatIpv4((Number(value) & mask) >>> 0)}/${prefix}`;
  }
  const mask = ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
  return `${formatIpv6(BigInt(value) & mask)}/${prefix}`;
}

function compiled(text: string) {
  const checked = policyNetwork(text);
  if ('problem' in checked) throw new Error(checked.problem);
  return compileNetworks([checked.network as IpNetwork]);
}

/** Spellings of one IPv4 address that the WHATWG URL parser reads as it. */
function spellings(value: number): string[] {
  const [a, b, c, d] = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
  const hex = (n: number) => `0x${n.toString(16)}`;
  const octal = (n: number) => `0${n.toString(8)}`;
  const high = ((value >>> 16) & 0xffff).toString(16);
  const low = (value & 0xffff).toString(16);
  return [
    `${a}.${b}.${c}.${d}`,
    `http://${value}/`,
    `http://${hex(value)}/x`,
    `http://${[a, b, c, d].map(octal).join('.')}/`,
    `http://${a}.${(b << 16) | (c << 8) | d}/`,
    `http://${a}.${b}.${(c << 8) | d}:8080/`,
    `https://user:pw@${[a, b, c, d].map(hex).join('.')}/`,
    `http://${a}.${b}.${c}.${d}./`,
    `http://[::ffff:${a}.${b}.${c}.${d}]/`,
    `http://[::ffff:${high}:${low}]:443/`,
    `http://[0:0:0:0:0:ffff:${high}:${low}]/`,
  ];
}

describe('in_network properties', () => {
  it('agrees with a bit-string reference for IPv4', () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (address, around, prefix) => {
        const text = networkText(around, prefix, 4);
        const base = bits(parseBase4(text)!, 32);
        const expected = naiveContains(bits(address, 32), base, prefix);
        expect(compiled(text).contains({ version: 4, value: address })).toBe(expected);
        // An address always lies in the network made around it.
        expect(
          compiled(networkText(address, prefix, 4)).contains({ version: 4, value: address }),
        ).toBe(true);
      }),
      RUNS,
    );
  });

  it('agrees with a bit-string reference for IPv6', () => {
    fc.assert(
      fc.property(ipv6, ipv6, fc.integer({ min: 0, max: 128 }), (address, around, prefix) => {
        const text = networkText(around, prefix, 6);
        const base = parseIpv6(text.split('/')[0]!)!;
        const addressBits = bits(address, 128);
        const baseBits = bits(base, 128);
        // A mapped network also covers IPv4, so a compatible address can fall in it as IPv4.
        const embeds =
          addressBits.startsWith('0'.repeat(80)) &&
          (addressBits.slice(80, 96) === '1'.repeat(16) ||
            (addressBits.slice(80, 96) === '0'.repeat(16) && address > 1n));
        const mappedNetwork =
          prefix >= 96 && baseBits.slice(0, 96) === `${'0'.repeat(80)}${'1'.repeat(16)}`;
        const expected =
          naiveContains(addressBits, baseBits, prefix) ||
          (embeds &&
            mappedNetwork &&
            naiveContains(addressBits.slice(96), baseBits.slice(96), prefix - 96));
        expect(compiled(text).contains({ version: 6, value: address })).toBe(expected);
        expect(
          compiled(networkText(address, prefix, 6)).contains({ version: 6, value: address }),
        ).toBe(true);
      }),
      RUNS,
    );
  });

  it('round-trips IPv6 text', () => {
    fc.assert(
      fc.property(ipv6, (value) => {
        expect(parseIpv6(formatIpv6(value))).toBe(value);
        expect(addressOf(`http://[${formatIpv6(value)}]:80/`)).toEqual({ version: 6, value });
      }),
      RUNS,
    );
  });

  it('places every spelling of an IPv4 address in the same networks', () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (address, around, prefix) => {
        const network = compiled(networkText(around, prefix, 4));
        const expected = network.contains({ version: 4, value: address });
        for (const spelling of spellings(address)) {
          const found = addressOf(spelling);
          expect(found, spelling).toBeDefined();
          expect(network.contains(found!), spelling).toBe(expected);
        }
      }),
      RUNS,
    );
  });

  it('makes not_in_network the complement of in_network for any present text', () => {
    const engineFor = (operator: string, networks: string[]) => {
      const result = validatePolicy({
        name: 'p',
        version: '1',
        rules: [
          {
            id: 'r',
            match_on: { conditions: [{ field: 'u', operator, value: networks }] },
            effect: { type: 'allow' },
          },
        ],
      });
      if (!result.ok) throw new Error(result.issues.map((issue) => issue.message).join('\n'));
      return createEngine([result.policy]);
    };
    const text = fc.oneof(
      fc.string(),
      ipv4.map((value) => `http://${formatIpv4(value)}/`),
      ipv6.map((value) => `http://[${formatIpv6(value)}]/`),
      ipv4.chain((value) => fc.constantFrom(...spellings(value))),
    );
    const networks = fc.array(
      fc.oneof(
        fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([v, p]) => networkText(v, p, 4)),
        fc.tuple(ipv6, fc.integer({ min: 0, max: 128 })).map(([v, p]) => networkText(v, p, 6)),
      ),
      { minLength: 1, maxLength: 4 },
    );
    fc.assert(
      fc.property(networks, text, (list, u) => {
        const inside = engineFor('in_network', list).evaluate({ resource: 't', parameters: { u } });
        const outside = engineFor('not_in_network', list).evaluate({
          resource: 't',
          parameters: { u },
        });
        expect(inside.type === 'allow').toBe(outside.type !== 'allow');
      }),
      { ...RUNS, numRuns: 150 },
    );
  });
});

function parseBase4(text: string): number | undefined {
  const checked = policyNetwork(text);
  return 'network' in checked && checked.network.version === 4 ? checked.network.base : undefined;
}
