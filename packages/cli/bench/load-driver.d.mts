/** Types of load-driver.mjs, for the TypeScript test that shares it with the soak. */

export type LoadTransport = 'stdio' | 'tcp-spawn' | 'tcp-upstream';

export declare const LOAD_SERVER: string;
export declare const DEFAULT_CLI: string;
export declare const LOAD_POLICY: string;
export declare const TRANSPORTS: readonly LoadTransport[];

export declare function agentOf(client: number): string;

export interface LoadCall {
  readonly denied: boolean;
  readonly tool: string;
  readonly arguments: { readonly client: number; readonly n: number; readonly text: string };
}

export declare function callOf(client: number, n: number, denyEvery: number): LoadCall;

export type AnswerKind = 'ok' | 'duplicated' | 'misrouted' | 'wrong' | 'unexpected';

export interface LedgerCounts {
  sent: number;
  answered: number;
  ok: number;
  duplicated: number;
  misrouted: number;
  wrong: number;
  unexpected: number;
}

export interface Ledger {
  readonly client: number;
  readonly calls: number;
  readonly counts: LedgerCounts;
  readonly examples: readonly string[];
  readonly via: string | undefined;
  request(n: number): string;
  accept(message: unknown): AnswerKind;
  lost(): number;
}

export declare function createLedger(options: {
  client: number;
  calls: number;
  denyEvery: number;
}): Ledger;

export declare function memoryOf(
  pid: number,
): { rssBytes: number; peakRssBytes: number } | undefined;

export interface LoadOptions {
  readonly transport: LoadTransport;
  readonly calls: number;
  readonly inFlight: number;
  readonly dir: string;
  readonly clients?: number;
  readonly cli?: string;
  readonly denyEvery?: number;
  readonly stallMs?: number;
  readonly onProgress?: (message: string) => void;
}

export interface RssFigures {
  readonly start: number | undefined;
  readonly middle: number | undefined;
  readonly end: number | undefined;
  readonly peak: number | undefined;
  readonly timeline: readonly {
    answered: number;
    rssBytes?: number;
    peakRssBytes?: number;
  }[];
}

export interface LoadReport {
  readonly transport: LoadTransport;
  readonly clients: number;
  readonly inFlight: number;
  readonly calls: number;
  readonly allowed: number;
  readonly denied: number;
  readonly durationMs: number;
  readonly callsPerSecond: number;
  readonly rss: RssFigures;
  readonly answers: {
    sent: number;
    ok: number;
    lost: number;
    duplicated: number;
    misrouted: number;
    wrong: number;
    unexpected: number;
  };
  readonly server: { received: number; expected: number; missing: number; extra: number };
  readonly audit: {
    records: number;
    expected: number;
    missing: number;
    duplicated: number;
    mismatched: number;
    other: number;
    torn: number;
    verified: boolean;
    verifiedRecords: number | undefined;
    stats: {
      events: number | undefined;
      allowed: number | undefined;
      denied: number | undefined;
    };
  };
  readonly exit: { code: number | null; signal: string | null; killed: boolean };
  /** Every failed check, as a sentence; empty when the run was correct. */
  readonly failures: string[];
}

export declare function runLoad(options: LoadOptions): Promise<LoadReport>;

export declare function memoryProblem(
  rss: Pick<RssFigures, 'middle' | 'end'>,
  bound?: { ratio?: number; slackBytes?: number },
): string | undefined;

export declare function renderLoadReport(reports: readonly LoadReport[]): string;
