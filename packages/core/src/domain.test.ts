import { describe, expect, it } from 'vitest';
import { canonicalHost, extractHost, hostInDomain } from './domain.js';

describe('hosts for in_domain', () => {
  it.each([
    ['https://api.example.com/path', 'api.example.com'],
    ['api.example.com', 'api.example.com'],
    ['https://example.com:8080/', 'example.com'],
    ['HTTPS://API.Example.COM', 'api.example.com'],
    ['http://[::1]:8080/x', '[::1]'],
    ['https://user:pw@evil.com/x', 'evil.com'],
    ['https://good.com@evil.com/', 'evil.com'],
    ['https://evil.com?q=good.com', 'evil.com'],
    ['https://evil.com#good.com', 'evil.com'],
    ['https://evil.com\\@good.com', 'evil.com'],
    ['https://example.com./', 'example.com'],
    ['https://bücher.de/', 'xn--bcher-kva.de'],
    ['https://ex%61mple.com/', 'example.com'],
  ])('%s has host %s', (url, host) => {
    expect(extractHost(url)).toBe(host);
  });

  it('finds no host in text that has none', () => {
    expect(extractHost('')).toBeUndefined();
    expect(extractHost('https:///path')).toBeUndefined();
    expect(extractHost('not a host at all')).toBeUndefined();
  });

  it('counts the domain itself and its subdomains, nothing else', () => {
    expect(hostInDomain('example.com', 'example.com')).toBe(true);
    expect(hostInDomain('api.example.com', 'example.com')).toBe(true);
    expect(hostInDomain('badexample.com', 'example.com')).toBe(false);
    expect(hostInDomain('example.com.evil.net', 'example.com')).toBe(false);
  });

  it('canonicalises policy domains like hosts', () => {
    expect(canonicalHost('Example.COM.')).toBe('example.com');
    expect(canonicalHost('bad domain')).toBeUndefined();
  });
});
