import { describe, expect, it } from 'vitest';
import { engineFrom, ruleYaml } from '../test/helpers.js';
import { parsePolicy } from './index.js';
import {
  addressOf,
  compileNetworks,
  embeddedIpv4,
  formatIpv4,
  formatIpv6,
  type IpNetwork,
  parseIpv4,
  parseIpv6,
  policyNetwork,
} from './network.js';

/** Whether `conditions: [condition]` holds for these arguments. */
function holds(condition: string, parameters: Record<string, unknown>): boolean {
  const engine = engineFrom(ruleYaml(`{ conditions: [${condition}] }`));
  return engine.evaluate({ resource: 't', parameters }).ruleId === 'r';
}

function networksOf(...texts: string[]) {
  const networks: IpNetwork[] = texts.map((text) => {
    const checked = policyNetwork(text);
    if ('problem' in checked) throw new Error(checked.problem);
    return checked.network;
  });
  return compileNetworks(networks);
}

function inNetworks(text: string, ...networks: string[]): boolean {
  const address = addressOf(text);
  return address !== undefined && networksOf(...networks).contains(address);
}

describe('IP address text', () => {
  it('reads strict dotted-decimal IPv4 only', () => {
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('10.1.2.3')).toBe(0x0a010203);
    for (const text of ['127.1', '010.0.0.1', '0x7f.0.0.1', '256.0.0.1', '1.2.3.4.5', '', '1..2.3'])
      expect(parseIpv4(text)).toBeUndefined();
  });

  it('reads IPv6 in full, compressed and IPv4-embedding forms', () => {
    expect(parseIpv6('::')).toBe(0n);
    expect(parseIpv6('::1')).toBe(1n);
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toBe(0x0001_0002_0003_0004_0005_0006_0007_0008n);
    expect(parseIpv6('FC00::')).toBe(0xfc00n << 112n);
    expect(parseIpv6('1:2:3:4:5:6:7::')).toBe(0x0001_0002_0003_0004_0005_0006_0007_0000n);
    expect(parseIpv6('::ffff:127.0.0.1')).toBe(0xffff_7f00_0001n);
    expect(parseIpv6('::ffff:7f00:1')).toBe(0xffff_7f00_0001n);
    expect(parseIpv6('fd00:ec2::254')).toBe((0xfd00n << 112n) | (0x0ec2n << 96n) | 0x254n);
  });

  it.each([
    ':::',
    '1::2::3',
    ':1::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4::5:6:7:8',
    '12345::',
    '1.2.3.4::',
    '::1.2.3',
    'fe80::1%eth0',
    'g::',
    '',
  ])('refuses %j as IPv6', (text) => {
    expect(parseIpv6(text)).toBeUndefined();
  });

  it('formats addresses canonically', () => {
    expect(formatIpv4(0x7f000001)).toBe('127.0.0.1');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
    expect(formatIpv6(0n)).toBe('::');
    expect(formatIpv6(0xfc00n << 112n)).toBe('fc00::');
    expect(formatIpv6(0xffff_7f00_0001n)).toBe('::ffff:7f00:1');
  });

  it('finds the IPv4 address inside mapped and compatible IPv6, not inside :: or ::1', () => {
    expect(embeddedIpv4(0xffff_7f00_0001n)).toBe(0x7f000001);
    expect(embeddedIpv4(0x7f00_0001n)).toBe(0x7f000001);
    expect(embeddedIpv4(0n)).toBeUndefined();
    expect(embeddedIpv4(1n)).toBeUndefined();
    expect(embeddedIpv4(0xfd00n << 112n)).toBeUndefined();
  });
});

describe('the address of an argument', () => {
  it.each([
    ['http://127.0.0.1/', 0x7f000001],
    ['http://2130706433/', 0x7f000001],
    ['http://0x7f.1/', 0x7f000001],
    ['http://0x7f000001/', 0x7f000001],
    ['http://0177.0.0.1/', 0x7f000001],
    ['http://127.1/', 0x7f000001],
    ['http://127.0.0.1./', 0x7f000001],
    ['HTTP://user:pw@127.0.0.1:8080/x?y#z', 0x7f000001],
    ['https://good.com@10.0.0.1/', 0x0a000001],
    ['10.0.0.1', 0x0a000001],
    ['10.0.0.1:5432', 0x0a000001],
    ['0x7f.1', 0x7f000001],
    ['  http://169.254.169.254/latest/meta-data/', 0xa9fea9fe],
    ['http:\\\\127.0.0.1\\x', 0x7f000001],
  ])('%s is IPv4 %i', (text, value) => {
    expect(addressOf(text)).toEqual({ version: 4, value });
  });

  it.each([
    ['http://[::1]/', 1n],
    ['http://[::1]:8080/x', 1n],
    ['http://[::ffff:127.0.0.1]/', 0xffff_7f00_0001n],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', 0xffff_7f00_0001n],
    ['http://[FD00:EC2::254]/', (0xfd00n << 112n) | (0x0ec2n << 96n) | 0x254n],
    ['[::1]', 1n],
    ['::1', 1n],
    ['fd00::1', (0xfd00n << 112n) | 1n],
    ['::ffff:10.0.0.1', 0xffff_0a00_0001n],
  ])('%s is IPv6 %s', (text, value) => {
    expect(addressOf(text)).toEqual({ version: 6, value });
  });

  it.each([
    'https://example.com/',
    'localhost',
    'http://127.0.0.1.nip.io/',
    'http://1.2.3.4.5/',
    'http://256.1.1.1/',
    'http://[fe80::1%25eth0]/',
    'http://[::1/',
    '',
    'not a url',
  ])('%j has no IP address', (text) => {
    expect(addressOf(text)).toBeUndefined();
  });
});

describe('policy networks', () => {
  it.each([
    ['10.0.0.0/8', { version: 4, base: 0x0a000000, prefix: 8 }],
    ['0.0.0.0/0', { version: 4, base: 0, prefix: 0 }],
    ['127.0.0.1', { version: 4, base: 0x7f000001, prefix: 32 }],
    ['255.255.255.255/32', { version: 4, base: 0xffffffff, prefix: 32 }],
    ['fc00::/7', { version: 6, base: 0xfc00n << 112n, prefix: 7 }],
    ['::1', { version: 6, base: 1n, prefix: 128 }],
    ['[::1]', { version: 6, base: 1n, prefix: 128 }],
    ['::/0', { version: 6, base: 0n, prefix: 0 }],
    ['::ffff:10.0.0.0/104', { version: 6, base: 0xffff_0a00_0000n, prefix: 104 }],
  ])('reads %s', (text, network) => {
    expect(policyNetwork(text)).toEqual({ network });
  });

  it.each([
    ['10.0.0.1/8', 'write the network\'s first address, "10.0.0.0/8"'],
    ['fd00::1/8', '"fd00::/8"'],
    ['10.0.0.0/33', 'from 0 to 32'],
    ['::/129', 'from 0 to 128'],
    ['10.0.0.0/', 'invalid prefix length'],
    ['10.0.0.0/08', 'invalid prefix length'],
    ['10.0.0.0/8/8', 'invalid prefix length'],
    ['10.0.0.0/-1', 'invalid prefix length'],
    ['127.1', 'not an IP address'],
    ['010.0.0.0/8', 'not an IP address'],
    ['fe80::%eth0/10', 'not an IP address'],
    ['10.0.0.0 /8', 'not an IP address'],
    ['localhost', 'is a host name'],
    ['example.com/24', 'is a host name'],
  ])('refuses %s', (text, why) => {
    const checked = policyNetwork(text);
    expect('problem' in checked && checked.problem).toContain(why);
  });
});

describe('network membership', () => {
  it('compares the bits under the prefix', () => {
    expect(inNetworks('10.255.255.255', '10.0.0.0/8')).toBe(true);
    expect(inNetworks('11.0.0.0', '10.0.0.0/8')).toBe(false);
    expect(inNetworks('172.31.0.1', '172.16.0.0/12')).toBe(true);
    expect(inNetworks('172.32.0.1', '172.16.0.0/12')).toBe(false);
    expect(inNetworks('255.255.255.255', '240.0.0.0/4')).toBe(true);
    expect(inNetworks('1.2.3.4', '0.0.0.0/0')).toBe(true);
    expect(inNetworks('1.2.3.4', '1.2.3.4')).toBe(true);
    expect(inNetworks('1.2.3.5', '1.2.3.4')).toBe(false);
    expect(inNetworks('fdff::1', 'fc00::/7')).toBe(true);
    expect(inNetworks('fe00::1', 'fc00::/7')).toBe(false);
    expect(inNetworks('2001:db8::1', '::/0')).toBe(true);
  });

  it('keeps the families apart except where IPv6 embeds IPv4', () => {
    expect(inNetworks('1.2.3.4', '::/0')).toBe(false);
    expect(inNetworks('2001:db8::1', '0.0.0.0/0')).toBe(false);
    expect(inNetworks('http://[::ffff:127.0.0.1]/', '127.0.0.0/8')).toBe(true);
    expect(inNetworks('http://[::ffff:7f00:1]/', '127.0.0.0/8')).toBe(true);
    expect(inNetworks('http://[::127.0.0.1]/', '127.0.0.0/8')).toBe(true);
    expect(inNetworks('http://[::1]/', '0.0.0.0/8')).toBe(false);
    expect(inNetworks('127.0.0.1', '::ffff:127.0.0.0/104')).toBe(true);
    expect(inNetworks('10.0.0.1', '::ffff:127.0.0.0/104')).toBe(false);
  });
});

describe('in_network / not_in_network conditions', () => {
  const loopback = '{ field: url, operator: in_network, value: [127.0.0.0/8, "::1"] }';
  const notPrivate = '{ field: url, operator: not_in_network, value: [10.0.0.0/8, fc00::/7] }';

  it.each([
    [loopback, 'http://127.0.0.1:8080/', true],
    [loopback, 'http://2130706433/', true],
    [loopback, 'http://0x7f.1/', true],
    [loopback, 'http://127.1/', true],
    [loopback, 'http://[::ffff:127.0.0.1]/', true],
    [loopback, 'http://[::1]/admin', true],
    [loopback, 'http://evil.com@127.0.0.1/', true],
    [loopback, 'http://127.0.0.1@evil.com/', false],
    [loopback, 'http://localhost/', false],
    [loopback, 'https://128.0.0.1/', false],
    [notPrivate, 'https://93.184.215.14/', true],
    [notPrivate, 'https://example.com/', true],
    [notPrivate, 'http://10.1.2.3/', false],
    [notPrivate, 'http://[fd00:ec2::254]/', false],
    [notPrivate, 'http://[::ffff:10.0.0.1]/', false],
  ])('%s with %s is %s', (condition, url, expected) => {
    expect(holds(condition, { url })).toBe(expected);
  });

  it('is false for a missing field, like not_in_domain; not_in_network holds for non-strings', () => {
    expect(holds(loopback, {})).toBe(false);
    expect(holds(notPrivate, {})).toBe(false);
    expect(holds(loopback, { url: 2130706433 })).toBe(false);
    expect(holds(notPrivate, { url: ['http://10.0.0.1/'] })).toBe(true);
    expect(
      holds('{ field: url, operator: in_network, value: 10.0.0.0/8 }', { url: '10.0.0.1' }),
    ).toBe(true);
  });

  it('reports a bad network at load, at its index in the list', () => {
    const result = parsePolicy(
      ruleYaml(
        '{ conditions: [{ field: u, operator: in_network, value: [10.0.0.0/8, 10.0.0.1/8] }] }',
      ),
      { file: 'p.yaml' },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({
      code: 'invalid_network',
      path: ['rules', 0, 'match_on', 'conditions', 0, 'value', 1],
      line: 5,
    });
    expect(result.issues[0]!.message).toContain('"10.0.0.0/8"');
  });

  it('refuses ignore_case and values that are not text', () => {
    for (const condition of [
      '{ field: u, operator: in_network, value: 10.0.0.0/8, ignore_case: true }',
      '{ field: u, operator: not_in_network, value: [] }',
      '{ field: u, operator: in_network, value: 10 }',
      '{ field: u, operator: in_network, value: "not-an-ip" }',
    ]) {
      expect(parsePolicy(ruleYaml(`{ conditions: [${condition}] }`)).ok).toBe(false);
    }
  });
});
