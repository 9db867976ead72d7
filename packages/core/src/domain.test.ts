import { describe, expect, it } from 'vitest';
import { canonicalHost, extractHost, hostInDomain, policyDomain } from './domain.js';

describe('hosts for in_domain', () => {
  it.each([
    ['https://api.example.com/path', 'api.example.com'],
    ['api.example.com', 'api.example.com'],
    ['https://example.com:8080/', 'example.com'],
    ['HTTPS://API.Example.COM', 'api.example.com'],
    ['http://[::1]:8080/x', '[::1]'],
    ['http://[::1]:99999/x', '[::1]'],
    ['https://user:pw@evil.com/x', 'evil.com'],
    ['https://good.com@evil.com/', 'evil.com'],
    ['https://evil.com?q=good.com', 'evil.com'],
    ['https://evil.com#good.com', 'evil.com'],
    ['https://evil.com\\@good.com', 'evil.com'],
    ['https://example.com./', 'example.com'],
    ['https://bücher.de/', 'xn--bcher-kva.de'],
    ['https://ex%61mple.com/', 'example.com'],
    ['http:\\\\evil.com\\x', 'evil.com'],
    ['https:/\\evil.com/', 'evil.com'],
    ['https:///evil.com/x', 'evil.com'],
    ['  https://evil.com', 'evil.com'],
  ])('%s has host %s', (url, host) => {
    expect(extractHost(url)).toBe(host);
  });

  it('finds no host in text that has none', () => {
    expect(extractHost('')).toBeUndefined();
    expect(extractHost('https://')).toBeUndefined();
    expect(extractHost('not a host at all')).toBeUndefined();
  });

  it('counts the domain itself and its subdomains, nothing else', () => {
    expect(hostInDomain('example.com', 'example.com')).toBe(true);
    expect(hostInDomain('api.example.com', 'example.com')).toBe(true);
    expect(hostInDomain('badexample.com', 'example.com')).toBe(false);
    expect(hostInDomain('example.com.evil.net', 'example.com')).toBe(false);
  });

  it.each([
    ['*.example.com', 'wildcard'],
    ['https://example.com', 'is a URL'],
    ['example.com/path', 'is a URL'],
    ['example.com:443', 'port'],
    ['exa mple.com', 'not a domain name'],
  ])('refuses %s as a policy domain', (text, why) => {
    const checked = policyDomain(text);
    expect('problem' in checked && checked.problem).toContain(why);
  });

  it('accepts bare and international policy domains', () => {
    expect(policyDomain('Example.com')).toEqual({ domain: 'example.com' });
    expect(policyDomain('bücher.de')).toEqual({ domain: 'xn--bcher-kva.de' });
  });

  it('canonicalises policy domains like hosts', () => {
    expect(canonicalHost('Example.COM.')).toBe('example.com');
    expect(canonicalHost('bad domain')).toBeUndefined();
  });
});
