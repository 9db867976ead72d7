import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertJson } from './canonical.js';
import { createRedactor, DEFAULT_REDACTED_KEYS, DEFAULT_SECRET_PATTERNS } from './index.js';
import { keyWords } from './redact-keys.js';

const redactor = createRedactor();

// Realistic fakes: right shapes and lengths, no live credentials (AWS's and jwt.io's own examples).
const SAMPLES = {
  aws: 'AKIAIOSFODNN7EXAMPLE',
  awsSession: 'ASIAY34FZKBOKMUTVV7A',
  github: 'ghp_R2d2C3poB8bYodaL3iaH4nS0lOCh3wBacca1',
  githubApp: 'ghs_16C7e42F292c6912E7710c838347Ae178B4a',
  githubFineGrained:
    'github_pat_11ABCDEFG0123456789abc_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab',
  slack: 'xoxb-2210535565-2211532321478-aBcDeFgHiJkLmNoPqRsTuVwX',
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  pem: [
    '-----BEGIN RSA PRIVATE KEY-----',
    'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun',
    'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK',
    '-----END RSA PRIVATE KEY-----',
  ].join('\n'),
  openssh:
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----',
  stripe: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  google: 'AIzaSyA-1234567890abcdefghijklmnopqrstu',
} as const;

describe('redaction by key', () => {
  it.each([
    ['password', 'password'],
    ['userPassword', 'password'],
    ['DB_PASSWD', 'passwd'],
    ['client_secret', 'secret'],
    ['accessToken', 'token'],
    ['x-api-key', 'api_key'],
    ['OPENAI_API_KEY', 'api_key'],
    ['APIKey', 'api_key'],
    ['apikey', 'apikey'],
    ['Authorization', 'authorization'],
    ['x-auth-token', 'token'],
    ['OAuth', 'auth'],
    ['Set-Cookie', 'cookie'],
    ['sessionId', 'session'],
    ['private_key', 'private_key'],
    ['privateKeyPem', 'private_key'],
    ['aws_secret_access_key', 'secret'],
    ['gcpCredentials', 'credentials'],
    ['password2', 'password'],
  ])('redacts the value of %s as [REDACTED:%s]', (key, kind) => {
    expect(redactor.value({ [key]: 'plain value' })).toEqual({ [key]: `[REDACTED:${kind}]` });
  });

  it.each([
    'author',
    'authority',
    'tokenizer',
    'path',
    'keyboard',
    'secretary',
    'passage',
    'cookies_enabled_count',
  ])('leaves %s alone unless its words match', (key) => {
    expect(redactor.value({ [key]: 'plain value' })).toEqual({ [key]: 'plain value' });
  });

  it('replaces a secret-named member whole, whatever its type, at any depth and in arrays', () => {
    expect(
      redactor.value({
        headers: [{ Authorization: { scheme: 'Basic', value: 'dXNlcjpwYXNz' } }],
        nested: { deeper: { token: 12345, note: 'ok' } },
      }),
    ).toEqual({
      headers: [{ Authorization: '[REDACTED:authorization]' }],
      nested: { deeper: { token: '[REDACTED:token]', note: 'ok' } },
    });
  });

  it('splits keys into words at separators, humps, acronyms and digits', () => {
    expect(keyWords('X-APIKey_v2.secretValue')).toEqual([
      'x',
      'api',
      'key',
      'v',
      '2',
      'secret',
      'value',
    ]);
  });

  it('takes configured patterns instead of the defaults, or on top of them', () => {
    const only = createRedactor({ keys: ['ssn'] });
    expect(only.value({ ssn: '078-05-1120', password: 'x' })).toEqual({
      ssn: '[REDACTED:ssn]',
      password: 'x',
    });
    const more = createRedactor({ keys: [...DEFAULT_REDACTED_KEYS, 'ssn'] });
    expect(more.value({ patientSSN: '078-05-1120', password: 'x' })).toEqual({
      patientSSN: '[REDACTED:ssn]',
      password: '[REDACTED:password]',
    });
  });

  it('keeps an own __proto__ member as data and does not touch prototypes', () => {
    const result = redactor.value(JSON.parse('{"__proto__":{"token":"t"},"a":1}')) as object;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual({
      token: '[REDACTED:token]',
    });
  });

  it('hides what is nested too deep to inspect', () => {
    let value: unknown = { secret: 's' };
    for (let i = 0; i < 100; i++) value = { next: value };
    expect(JSON.stringify(redactor.value(value))).toContain('[REDACTED:too_deep]');
    expect(JSON.stringify(redactor.value(value))).not.toContain('"s"');
  });
});

describe('redaction by value', () => {
  it.each([
    ['aws_access_key_id', SAMPLES.aws],
    ['aws_access_key_id', SAMPLES.awsSession],
    ['github_token', SAMPLES.github],
    ['github_token', SAMPLES.githubApp],
    ['github_token', SAMPLES.githubFineGrained],
    ['slack_token', SAMPLES.slack],
    ['jwt', SAMPLES.jwt],
    ['private_key', SAMPLES.pem],
    ['private_key', SAMPLES.openssh],
    ['stripe_key', SAMPLES.stripe],
    ['google_api_key', SAMPLES.google],
  ])('replaces a whole %s value with its marker', (kind, secret) => {
    expect(redactor.value({ value: secret })).toEqual({ value: `[REDACTED:${kind}]` });
  });

  it('replaces secrets inside longer text and keeps the rest readable', () => {
    expect(
      redactor.text(
        'curl -H "Authorization: Bearer 7f3c9a1e5b2d4f60a8c1e2d3b4a59687" https://api.example.com && ' +
          `curl -H "Authorization: Bearer ${SAMPLES.jwt}" && ` +
          `AWS_ACCESS_KEY_ID=${SAMPLES.aws} aws s3 ls && ` +
          'psql postgres://app:s3cr3t-Pa55@db.internal:5432/app && PGPASSWORD=hunter22 psql',
      ),
    ).toBe(
      'curl -H "Authorization: Bearer [REDACTED:bearer_token]" https://api.example.com && ' +
        'curl -H "Authorization: Bearer [REDACTED:jwt]" && ' +
        'AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key_id] aws s3 ls && ' +
        'psql postgres://app:[REDACTED:url_credentials]@db.internal:5432/app && ' +
        'PGPASSWORD=[REDACTED:assigned_secret] psql',
    );
  });

  it('redacts a PEM key whose END line is missing', () => {
    const cut = SAMPLES.pem.split('\n').slice(0, 2).join('\n');
    expect(redactor.text(`key: ${cut}`)).toBe('key: [REDACTED:private_key]');
  });

  it('leaves ordinary text, ids and hashes alone', () => {
    const ordinary = [
      'git commit -m "fix token refresh"',
      'the bearer of this letter',
      'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'https://example.com/path?q=1',
      'AKIAshort',
      'ghp_tooShort',
      'user@example.com',
    ];
    for (const text of ordinary) expect(redactor.text(text)).toBe(text);
  });

  it('can run without value patterns', () => {
    expect(createRedactor({ values: [] }).text(SAMPLES.aws)).toBe(SAMPLES.aws);
  });
});

describe('the secret patterns', () => {
  it('bound every repetition and quantify no group that repeats inside', () => {
    for (const { kind, pattern } of DEFAULT_SECRET_PATTERNS) {
      // Character classes are single steps: take them out, then look at the structure.
      const structure = pattern.source.replace(/\[(?:\\.|[^\]\\])*\]/g, 'C');
      expect(structure, kind).not.toMatch(/(?<!\\)[+*]/);
      const quantifiedGroups = structure.match(/\((?:[^()]|\([^()]*\))*\)\{/g) ?? [];
      for (const group of quantifiedGroups) expect(group.slice(0, -1), kind).not.toMatch(/\{/);
    }
  });

  it('stay fast on a megabyte of near-misses', () => {
    const nearMisses = [
      'eyJ-'.repeat(250_000),
      `eyJ${'a'.repeat(1_000_000)}`,
      '-----BEGIN PRIVATE KEY-----'.repeat(40_000),
      'a://b:'.repeat(170_000),
      'password='.repeat(110_000),
      'Bearer '.repeat(140_000),
      `${'x'.repeat(1_000_000)}@`,
    ];
    for (const text of nearMisses) {
      const started = performance.now();
      redactor.text(text);
      expect(performance.now() - started, text.slice(0, 12)).toBeLessThan(1500);
    }
  });
});

describe('redactor.check', () => {
  const redactor = createRedactor();
  /** What `check` must agree with: would the redacted value be refused by the log? */
  const refusal = (run: () => void): string | undefined => {
    try {
      run();
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };
  const expectSameAsRedacting = (input: unknown) => {
    expect(refusal(() => redactor.check?.(input))).toBe(
      refusal(() => assertJson(redactor.value(input))),
    );
  };

  it('refuses exactly what a redacted record could not hold, with the same message', () => {
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let depth = 0; depth < 80; depth++) {
      cursor.next = {};
      cursor = cursor.next as Record<string, unknown>;
    }
    cursor.fn = () => 1;
    const samples: unknown[] = [
      null,
      { a: 1, b: 'x', c: [true, null, { d: 2 }] },
      { password: () => 1 }, // a function under a redacted key is hidden, not refused
      { note: () => 1 },
      { note: Symbol('s') },
      { n: 10n },
      { list: [1, undefined] },
      { skipped: undefined },
      { when: new Date(0) },
      { map: new Map() },
      { big: Number.POSITIVE_INFINITY, small: Number.NaN },
      [Number.NEGATIVE_INFINITY],
      deep, // past the redactor's depth everything is one marker, even a function
      Object.create(null),
    ];
    for (const sample of samples) expectSameAsRedacting(sample);
  });

  it('agrees with redacting on generated values', () => {
    const leaf = fc.oneof(
      fc.jsonValue(),
      fc.constantFrom<unknown>(
        undefined,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        () => 1,
        Symbol('s'),
        5n,
        new Date(0),
      ),
    );
    const value = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(
          fc.oneof(fc.string(), fc.constantFrom('token', 'api_key', 'password', '__proto__')),
          tie('value'),
          { maxKeys: 4 },
        ),
      ),
    })).value;
    fc.assert(fc.property(value, expectSameAsRedacting), { numRuns: 2000, seed: 0x6b76 });
  });
});

describe('a secret pattern that names what it contains', () => {
  it('searches only strings that contain it, and the built-in URL pattern still redacts', () => {
    const redactor = createRedactor({
      values: [{ kind: 'code', pattern: /\b[A-Z]{3}-\d{4}\b/, contains: '-' }],
    });
    expect(redactor.text('ticket ABC-1234 here')).toBe('ticket [REDACTED:code] here');
    // Without the text it names, the pattern is not run at all (here it could not match anyway).
    expect(redactor.text('ticket ABC 1234 here')).toBe('ticket ABC 1234 here');
    const defaults = createRedactor();
    expect(defaults.text('postgres://app:s3cr3t-pw@db.internal:5432/main')).toBe(
      'postgres://app:[REDACTED:url_credentials]@db.internal:5432/main',
    );
    expect(DEFAULT_SECRET_PATTERNS.find((p) => p.kind === 'url_credentials')?.contains).toBe('://');
  });
});

describe('value patterns from configuration (SecretRegex)', () => {
  it('redact what they match, the secret group only when there is one, after the defaults', () => {
    const configured = createRedactor({
      values: [
        ...DEFAULT_SECRET_PATTERNS,
        { kind: 'employee_id', regex: 'EMP-\\d{6}' },
        { kind: 'pin', regex: '(?i)pin[:= ]+(?P<secret>\\d{4,8})' },
      ],
    });
    expect(
      configured.value({
        note: `ask EMP-123456 or EMP-٣٤٥٦٧٨, PIN: 4321, key ${SAMPLES.aws}`,
        list: ['pin=98765'],
      }),
    ).toEqual({
      note: 'ask [REDACTED:employee_id] or [REDACTED:employee_id], PIN: [REDACTED:pin], key [REDACTED:aws_access_key_id]',
      list: ['pin=[REDACTED:pin]'],
    });
    expect(configured.text('EMP-12345 is too short')).toBe('EMP-12345 is too short');
  });

  it('are refused with the kind and the problem named when they do not compile', () => {
    const broken = () => createRedactor({ values: [{ kind: 'ticket', regex: 'T-(\\d+' }] });
    expect(broken).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    expect(broken).toThrow(
      /redaction pattern ticket: invalid regex "T-\(\\d\+": missing closing \)/,
    );
    // Look-around is JavaScript's, not the policy syntax's (nor linear-time).
    expect(() => createRedactor({ values: [{ kind: 'x', regex: '(?<=a)b' }] })).toThrow(
      /redaction pattern x: invalid regex/,
    );
  });

  it('take a kind that reads well inside the marker, nothing else', () => {
    for (const kind of ['', 'a b', 'x]', 'k'.repeat(65)]) {
      expect(() => createRedactor({ values: [{ kind, regex: 'x' }] })).toThrow(
        /a redaction kind is 1 to 64 letters/,
      );
    }
  });

  it('run in linear time on text a backtracking engine never finishes', () => {
    const hostile = `${'a'.repeat(200_000)}!`;
    const configured = createRedactor({ values: [{ kind: 'slow', regex: '(a|aa)+b' }] });
    // /(a|aa)+b/ in JavaScript's engine would not return on this text.
    expect(configured.text(hostile)).toBe(hostile);
  });
});
