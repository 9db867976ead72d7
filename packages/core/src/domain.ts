/**
 * Hosts for `in_domain` / `not_in_domain`. A URL (`https://user@API.Example.com:8443/x`) or a
 * bare host (`api.example.com`) gives its lower-cased host; the WHATWG URL parser then
 * canonicalises it (IDNA to punycode, percent-decoding, IPv4 forms) so that look-alike spellings
 * of one host compare equal. Where the Rust Kvlar kept `user@evil.com` or `evil.com?x` as the
 * "host", this one finds `evil.com`.
 */

/** The canonical host, or `undefined` when the text has none. */
export function extractHost(text: string): string | undefined {
  // A scheme then any run of `/` or `\\`: WHATWG parsers read `http:\\evil.com` as evil.com.
  const scheme = /^\s*[a-z][a-z0-9+.-]*:[/\\]+/i.exec(text);
  let rest = scheme !== null ? text.slice(scheme[0].length) : text;
  if (scheme === null) {
    const schemeEnd = rest.indexOf('://');
    if (schemeEnd !== -1) rest = rest.slice(schemeEnd + 3);
  }
  const authorityEnd = rest.search(/[/?#\\]/);
  if (authorityEnd !== -1) rest = rest.slice(0, authorityEnd);
  const at = rest.lastIndexOf('@');
  if (at !== -1) rest = rest.slice(at + 1);
  if (rest.startsWith('[')) {
    // The port after `]` goes too: an out-of-range one would otherwise make the host unreadable.
    const close = rest.indexOf(']');
    if (close !== -1) rest = rest.slice(0, close + 1);
  } else {
    const colon = rest.indexOf(':');
    if (colon !== -1) rest = rest.slice(0, colon);
  }
  return canonicalHost(rest);
}

/**
 * A policy's domain: a bare host name (`example.com`, `bücher.de`), canonical, or `undefined`
 * with the reason it is not one. URLs and wildcards are refused: subdomains are always included.
 */
export function policyDomain(text: string): { domain: string } | { problem: string } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /[/?#@\\]/.test(text)) {
    return { problem: `"${text}" is a URL; write the domain alone, e.g. "example.com"` };
  }
  if (text.includes('*')) {
    return {
      problem: `"${text}" has a wildcard; write "${text.replace(/^[*.]+/, '')}": subdomains are included`,
    };
  }
  if (!text.startsWith('[') && text.includes(':')) {
    return { problem: `"${text}" has a port; write the domain alone` };
  }
  const domain = canonicalHost(text);
  return domain === undefined ? { problem: `"${text}" is not a domain name` } : { domain };
}

/** Lower-cased, punycoded, without a trailing dot; `undefined` for text that is not a host. */
export function canonicalHost(host: string): string | undefined {
  if (host === '') return undefined;
  try {
    const hostname = new URL(`http://${host}/`).hostname;
    return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  } catch {
    return undefined;
  }
}

/** `api.example.com` is in `example.com`; `badexample.com` is not. */
export function hostInDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}
