/**
 * One proxy session: a client transport, an upstream transport, and between them the engine.
 * Every message is read strictly; decided requests are audited before anything is forwarded,
 * and what is forwarded is rebuilt from what the engine saw. Messages are handled one by one
 * and independently: a call that waits (for the audit, for a human) never delays another.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  type AuditEntry,
  type AuditOutcome,
  type AuditPolicy,
  type AuditSink,
  visibleText,
} from '@kvlar/audit';
import type { Action, Decision, Engine } from '@kvlar/core';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import {
  type ApprovalAnswer,
  type ApprovalRequest,
  type Approver,
  combineApprovers,
} from './approver.js';
import { type DuplicateKey, FrameError } from './framing.js';
import {
  type ActionKind,
  type Direction,
  isKnownNotification,
  isKnownRequest,
  kindOf,
  subjectOf,
  TOOL_CALL,
} from './kinds.js';
import { frameInfo } from './line-transport.js';
import {
  isJsonObject,
  isRequestId,
  type JsonObject,
  type Message,
  readMessage,
} from './messages.js';
import {
  ErrorCode,
  errorAnswer,
  type JsonRpcId,
  requestDecisionAnswer,
  toolDecisionAnswer,
} from './wire.js';

/** The agent id when neither `agentId` nor the client's `clientInfo.name` gives one (Rust's). */
export const DEFAULT_AGENT_ID = 'mcp-agent';

/** Rule ids of decisions the proxy takes without the policy. */
export const INVALID_REQUEST_RULE = '_invalid_request';
/**
 * The action type recorded for a message from the client that could not be read as any request:
 * not JSON, not UTF-8, too large, too deep, not a JSON-RPC message. It could have been a
 * `tools/call`; it was refused whole, and the attempt is on record.
 */
export const UNREADABLE_ACTION_TYPE = 'unreadable';
/** The deny when the audit sink could not record a call (`auditFailure: 'deny'`). */
export const AUDIT_FAILURE_RULE = '_audit_failure';
/** The deny when the engine threw (it should not; the proxy fails closed if it does). */
export const INTERNAL_ERROR_RULE = '_internal_error';

/** Something a person should know, for `onReport`: the proxy never logs on its own. */
export interface ProxyReport {
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  /** A stable, greppable name: `frame_error`, `upstream_closed`, `audit_failed`… */
  readonly code: string;
  readonly message: string;
}

/** Options of `createProxy` (docs/embedding.md has the table). */
export interface ProxyOptions {
  /** The engine, or a function returning the current one (hot reload swaps it between messages). */
  readonly engine: Engine | (() => Engine);
  readonly audit: AuditSink;
  /** Who answers `require_approval`. Absent: the call is answered "approval required" at once. */
  readonly approver?: Approver;
  /**
   * Ask the person at the client (`elicitation/create`) to approve held calls, when the client
   * declared the elicitation capability; asked alongside `approver`, the first answer decides.
   * Default true.
   */
  readonly elicitApprovals?: boolean;
  /** Held approvals end in deny after this long. Default 120 000 ms. */
  readonly approvalTimeoutMs?: number;
  /** How often a held call that carries a progress token gets a progress notification. Default 5000 ms. */
  readonly progressIntervalMs?: number;
  /** The agent's side: Claude Desktop, Cursor, a host's own `Client`… */
  readonly client: Transport;
  /** The MCP server's side. */
  readonly upstream: Transport;
  /** Pins the agent id; otherwise the client's `clientInfo.name` from `initialize` is used. */
  readonly agentId?: string;
  /** The server's name, for `match_on.servers` and the audit. */
  readonly serverName?: string;
  /** Names the server in the audit when `serverName` is not set (its command, its address). */
  readonly serverLabel?: string;
  /** `audit`: decide and record, but forward everything (shadow mode). Default `enforce`. */
  readonly mode?: 'enforce' | 'audit';
  /** Decide every kind of request, not only those the policy names. */
  readonly strict?: boolean;
  /** Remove tools the agent can never call from `tools/list` answers. Default true. */
  readonly filterTools?: boolean;
  /** When the audit sink fails: `deny` (default) the call, or `allow` it and report. */
  readonly auditFailure?: 'deny' | 'allow';
  /**
   * Also record what became of each decided request that was forwarded: a second record per
   * call, written after the answer went back, with `upstream` (ok or the error, how long it took)
   * and `call_id` naming the call's decision record. Default false: it doubles the records.
   */
  readonly auditResults?: boolean;
  /** Which policy text decided, for the audit. Default: named after the engine's policies. */
  readonly policy?: AuditPolicy;
  /** The session id in audit records. Default: a random UUID. */
  readonly session?: string;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly clock?: () => number;
  /** Ids for the records of decided requests and for held approvals. Default `crypto.randomUUID`. */
  readonly ids?: () => string;
  /** Where the proxy reports what a person should know. Never throws into the proxy. */
  readonly onReport?: (report: ProxyReport) => void;
  /** Told of every decision as it is taken (metrics); its failure never changes one. */
  readonly onDecision?: (event: DecisionEvent) => void;
  /** Told of every answer the server gives to a forwarded client request (metrics). */
  readonly onAnswered?: (event: AnswerEvent) => void;
}

/** One server answer, for observers: how long the server took, from forward to answer. */
export interface AnswerEvent {
  readonly method: string;
  readonly ok: boolean;
  readonly roundTripMs: number;
}

/** One decision, for observers. */
export interface DecisionEvent {
  readonly action: Action;
  readonly decision: Decision;
  /** How long the engine took, in milliseconds (0 for requests refused before evaluation). */
  readonly evaluationMs: number;
}

/** Counters of decisions taken, in the Rust health endpoint's terms. */
export interface ProxyStats {
  readonly evaluated: number;
  readonly allowed: number;
  readonly denied: number;
  readonly approval: number;
}

/** How a session ended. */
export interface ProxyEnd {
  /** Which side ended the session first. */
  readonly reason: 'client_closed' | 'upstream_closed' | 'closed';
}

/** One running proxy between a client and a server. */
export interface ProxySession {
  /** Installs the handlers and starts both transports, upstream first. */
  start(): Promise<void>;
  /** Withdraws held calls, waits for pending audit writes, closes both transports. */
  close(): Promise<ProxyEnd>;
  /** Resolves once the session is over and every decision has been written. */
  readonly closed: Promise<ProxyEnd>;
  /** Decisions taken so far. */
  readonly stats: ProxyStats;
  /** The session id written in its audit records. */
  readonly session: string;
}

interface Batch {
  /** Answers still to come. */
  open: number;
  readonly answers: unknown[];
  sealed: boolean;
}

interface Pending {
  readonly method: string;
  /** `held`: decided or waiting, not forwarded yet; the other side has never seen it. */
  state: 'held' | 'forwarded';
  withdrawn: boolean;
  readonly batch: Batch | undefined;
  /** Created when the call waits for an approver, whom it tells that the call was withdrawn. */
  abort: AbortController | undefined;
  /** `performance.now()` when it was forwarded. */
  forwardedAt?: number;
  /** A decided request forwarded with `auditResults` on: what its result record needs. */
  call?: DecidedCall;
}

/** What a result record repeats of its call, and when the call was forwarded (`clock()`). */
interface DecidedCall {
  readonly recordId: string;
  readonly action: Action;
  readonly outcome: AuditOutcome;
  readonly ruleId: string;
  readonly forwardedAt: number;
}

/** How a forwarded request ended, for its result record. */
interface CallResult {
  readonly ok: boolean;
  readonly error?: string;
}

/** Error texts in result records are cut to this many characters. */
const RESULT_ERROR_CHARS = 1000;

/** The side a message came from, and everything the session keeps about that side. */
interface Side {
  readonly name: Direction;
  readonly transport: Transport;
  /** Requests this side sent that are not answered yet, by id (`1` and `"1"` are different keys). */
  readonly pending: Map<JsonRpcId, Pending>;
  closed: boolean;
}

/** A choice of the client's approval form: the value sent back, and its label. */
type Choice = readonly [value: string, label: string];

const DENY_CHOICE: Choice = ['deny', 'Deny it'];

/** The form of the client's approval prompt: a decision among `choices`, and a reason. */
function decisionForm(...choices: Choice[]) {
  return {
    type: 'object',
    properties: {
      decision: {
        type: 'string',
        title: 'Decision',
        enum: choices.map(([value]) => value),
        enumNames: choices.map(([, label]) => label),
      },
      reason: { type: 'string', title: 'Reason (optional)' },
    },
    required: ['decision'],
  };
}

/**
 * A proxy between `client` and `upstream`: every tool call (and, when the policy names them, other
 * requests) is evaluated, written to the audit, and forwarded only if allowed. Call `start()`.
 */
export function createProxy(options: ProxyOptions): ProxySession {
  const clock = options.clock ?? Date.now;
  const ids = options.ids ?? randomUUID;
  const session = options.session ?? randomUUID();
  const mode = options.mode ?? 'enforce';
  const filterTools = options.filterTools ?? true;
  const auditFailure = options.auditFailure ?? 'deny';
  const auditResults = options.auditResults === true;
  const approvalTimeoutMs = options.approvalTimeoutMs ?? 120_000;
  const progressIntervalMs = options.progressIntervalMs ?? 5000;
  const fixedEngine = options.engine;
  const engineOf: () => Engine =
    typeof fixedEngine === 'function' ? fixedEngine : () => fixedEngine;
  const serverName = options.serverName;
  const serverLabel = serverName ?? options.serverLabel ?? '';
  const stats = { evaluated: 0, allowed: 0, denied: 0, approval: 0 };

  const client: Side = {
    name: 'client',
    transport: options.client,
    pending: new Map(),
    closed: false,
  };
  const upstream: Side = {
    name: 'server',
    transport: options.upstream,
    pending: new Map(),
    closed: false,
  };
  const other = (side: Side): Side => (side === client ? upstream : client);

  let initialized = false;
  let clientAgentId: string | undefined;
  let clientElicits = false;
  /** Requests the proxy itself sent to the client (elicitations), by id. */
  const asked = new Map<
    JsonRpcId,
    { resolve: (message: JsonObject) => void; reject: (error: Error) => void }
  >();
  const reportedMethods = new Set<string>();
  /** Calls being carried out (recorded, held, forwarded): `end` waits for them. */
  let running = 0;
  let whenIdle: (() => void) | undefined;
  let ending: ProxyEnd | undefined;
  let resolveClosed: (end: ProxyEnd) => void = () => {};
  const closed = new Promise<ProxyEnd>((resolve) => {
    resolveClosed = resolve;
  });

  function report(level: ProxyReport['level'], code: string, message: string): void {
    try {
      options.onReport?.({ level, code, message });
    } catch {
      // A broken reporter must not change what the proxy does.
    }
  }

  function agentId(): string {
    return options.agentId ?? clientAgentId ?? DEFAULT_AGENT_ID;
  }

  // Per engine: after a hot reload, records name the policy text that decided them.
  const policyOf = (current: Engine): AuditPolicy => options.policy ?? policyInfo(current);

  function track(task: Promise<void>): void {
    running += 1;
    task.then(settled, failed);
  }

  function settled(): void {
    running -= 1;
    if (running === 0) whenIdle?.();
  }

  function failed(error: unknown): void {
    report('error', 'internal_error', `internal error: ${messageOf(error)}`);
    settled();
  }

  // ── sending ────────────────────────────────────────────────────────────────────────────────

  // One handler a side, not a closure a message.
  const sendFailed = (side: Side) => (error: unknown) => {
    report('warn', 'send_failed', `cannot write to the ${side.name}: ${messageOf(error)}`);
  };
  const clientSendFailed = sendFailed(client);
  const serverSendFailed = sendFailed(upstream);

  function send(side: Side, message: unknown, original?: unknown): void {
    if (side.closed) return;
    const transport = side.transport as Transport & {
      sendRaw?: (line: Buffer | readonly Buffer[]) => Promise<void>;
    };
    const info = original !== undefined && isObjectLike(original) ? frameInfo(original) : undefined;
    // The received bytes as they are (a large answer as the reads it came in), unless a stray
    // `\r` (JSON whitespace) would break the line.
    const raw = info?.parts ?? info?.line;
    const sent =
      raw !== undefined && typeof transport.sendRaw === 'function' && !holdsCarriageReturn(raw)
        ? transport.sendRaw(raw)
        : transport.send(message as JSONRPCMessage);
    sent.catch(side === client ? clientSendFailed : serverSendFailed);
  }

  /** Answers a request of `side`, inside its batch when it came in one. */
  function answer(side: Side, answerMessage: unknown, batch: Batch | undefined, raw?: unknown) {
    if (batch === undefined) {
      send(side, answerMessage, raw);
      return;
    }
    batch.answers.push(answerMessage);
    batch.open -= 1;
    flushBatch(side, batch);
  }

  function flushBatch(side: Side, batch: Batch): void {
    if (!batch.sealed || batch.open > 0 || batch.answers.length === 0) return;
    send(side, batch.answers.splice(0));
  }

  /** Answers the pending request `id` of `side` and forgets it. */
  function settle(side: Side, id: JsonRpcId, answerMessage: unknown, raw?: unknown): void {
    const entry = side.pending.get(id);
    side.pending.delete(id);
    answer(side, answerMessage, entry?.batch, raw);
    if (entry?.call !== undefined) concluded(entry.call, resultOf(answerMessage, raw));
  }

  // ── reading ────────────────────────────────────────────────────────────────────────────────

  /** An answer the client gets exactly as the server sent it: its content needs no reading. */
  function relaysUnread(side: Side, envelope: unknown): boolean {
    if (side !== upstream || !isJsonObject(envelope) || !isRequestId(envelope.id)) return false;
    const entry = client.pending.get(envelope.id);
    if (entry === undefined || entry.state !== 'forwarded') return false;
    return !(entry.method === 'tools/list' && filterTools && mode === 'enforce');
  }

  function receive(side: Side, incoming: unknown): void {
    let received = incoming;
    if (ending !== undefined) return;
    let info = isObjectLike(received) ? frameInfo(received) : undefined;
    if (info?.complete !== undefined && !relaysUnread(side, received)) {
      // Delivered as an envelope only, but its content matters: parse all of it now.
      const completed = info.complete();
      if (!completed.ok) {
        handleFrameError(side, completed.error);
        return;
      }
      received = completed.value;
      info = isObjectLike(received) ? frameInfo(received) : undefined;
    }
    // A message that arrived as an object (an in-memory transport) is read as its JSON: what a
    // server would get, with `undefined` members gone, and a copy the sender can no longer change.
    const value = info === undefined ? jsonCopy(received) : received;
    if (value === NOT_JSON) {
      send(side, errorAnswer(null, ErrorCode.invalidRequest, 'the message is not JSON'));
      return;
    }
    const duplicates = info?.duplicateKeys ?? [];
    if (!Array.isArray(value)) {
      handle(side, value, duplicates, undefined);
      return;
    }
    if (value.length === 0) {
      send(side, errorAnswer(null, ErrorCode.invalidRequest, 'an empty batch is not a request'));
      return;
    }
    // Each element as if it came alone; the client's answers go back together, as JSON-RPC asks.
    const batch: Batch | undefined =
      side === client ? { open: 0, answers: [], sealed: false } : undefined;
    value.forEach((element, index) => {
      const own = duplicates
        .filter((duplicate) => duplicate.path[0] === index)
        .map((duplicate) => ({ path: duplicate.path.slice(1), key: duplicate.key }));
      handle(side, element, own, batch);
    });
    if (batch !== undefined) {
      batch.sealed = true;
      flushBatch(side, batch);
    }
  }

  function handle(
    side: Side,
    value: unknown,
    duplicates: readonly DuplicateKey[],
    batch: Batch | undefined,
  ): void {
    const message = readMessage(value, duplicates);
    switch (message.kind) {
      case 'invalid':
        rejectInvalid(side, message, batch);
        break;
      case 'response':
        relayResponse(side, message.id, message.message, value);
        break;
      case 'notification':
        relayNotification(side, message.method, message.params, message.message, value);
        break;
      case 'request':
        routeRequest(side, message, batch, value);
        break;
    }
  }

  function rejectInvalid(
    side: Side,
    message: Extract<Message, { kind: 'invalid' }>,
    batch: Batch | undefined,
  ): void {
    report('warn', 'invalid_message', `invalid message from the ${side.name}: ${message.reason}`);
    if (side === upstream) {
      if (message.method !== undefined) {
        // An unreadable request from the server is refused, as the client's are; one without
        // an id (a notification) is dropped.
        if (message.id === null) return;
        if (batch !== undefined) batch.open += 1;
        answer(side, errorAnswer(message.id, message.code, message.reason), batch);
        return;
      }
      // A broken answer from the server: the client's request still gets exactly one answer.
      const entry = message.id === null ? undefined : client.pending.get(message.id);
      if (message.id !== null && entry?.state === 'forwarded') {
        const text = `the server sent an invalid answer: ${message.reason}`;
        settle(client, message.id, errorAnswer(message.id, ErrorCode.upstreamError, text));
      }
      return;
    }
    const reply = errorAnswer(message.id, message.code, message.reason);
    if (message.method === undefined) {
      // No method could be read (`Method` for `method`, `[[…]]` in a batch, an array for a
      // method): whatever it was meant to be, the attempt belongs in the audit.
      track(refuseAttempt(side, UNREADABLE_ACTION_TYPE, '', message.reason, reply, batch));
      return;
    }
    const kind = kindOf(message.method, 'client');
    if (kind !== undefined) {
      // A decided kind that could not be read is a denied attempt: it belongs in the audit.
      track(refuseAttempt(side, kind.actionType, '', message.reason, reply, batch));
      return;
    }
    if (batch !== undefined) batch.open += 1;
    answer(side, reply, batch);
  }

  function observeAnswer(entry: Pending, message: JsonObject): void {
    if (options.onAnswered === undefined || entry.forwardedAt === undefined) return;
    try {
      options.onAnswered({
        method: entry.method,
        ok: !Object.hasOwn(message, 'error'),
        roundTripMs: performance.now() - entry.forwardedAt,
      });
    } catch {
      // An observer's failure changes nothing.
    }
  }

  function relayResponse(side: Side, id: JsonRpcId, message: JsonObject, raw: unknown): void {
    const asker = other(side);
    const own = side === client ? asked.get(id) : undefined;
    if (own !== undefined) {
      // The answer to a question Kvlar asked: it is Kvlar's, the server never hears of it.
      asked.delete(id);
      own.resolve(message);
      return;
    }
    const entry = asker.pending.get(id);
    // Only a forwarded request can be answered: an answer to a held one, or to an id never
    // sent, would let the other side pre-empt a decision.
    if (entry !== undefined && entry.state === 'forwarded' && side === upstream) {
      observeAnswer(entry, message);
    }
    if (entry === undefined || entry.state !== 'forwarded') {
      report(
        'warn',
        'unexpected_response',
        `the ${side.name} answered unknown request id ${JSON.stringify(id)}; dropped`,
      );
      return;
    }
    if (
      side === upstream &&
      entry.method === 'tools/list' &&
      filterTools &&
      mode === 'enforce' &&
      isJsonObject(message.result)
    ) {
      settle(asker, id, filterToolList(message));
      return;
    }
    settle(asker, id, message, side === upstream ? raw : undefined);
  }

  function relayNotification(
    side: Side,
    method: string,
    params: JsonObject | undefined,
    message: JsonObject,
    raw: unknown,
  ): void {
    if (!isKnownNotification(method, side.name)) {
      const kind = kindOf(method, side.name);
      if (kind !== undefined) {
        // `tools/call` as a notification: never forwarded, and recorded as the attempt it is.
        const reason = `${method} sent as a notification (without an id) is never forwarded`;
        track(refuseAttempt(side, kind.actionType, nameOf(params), reason, undefined, undefined));
        return;
      }
      if (!reportedMethods.has(`${side.name}:${method}`)) {
        reportedMethods.add(`${side.name}:${method}`);
        report(
          'warn',
          'unknown_notification',
          `dropped '${method}' from the ${side.name}: not an MCP notification`,
        );
      }
      return;
    }
    if (
      method === 'notifications/cancelled' &&
      isJsonObject(params) &&
      isRequestId(params.requestId)
    ) {
      const requestId = params.requestId;
      const entry = side.pending.get(requestId);
      if (entry !== undefined) {
        // Cancelled requests get no answer (MCP): forget it, so its batch does not wait for one
        // and a late answer from the other side is dropped.
        side.pending.delete(requestId);
        if (entry.batch !== undefined) {
          entry.batch.open -= 1;
          flushBatch(side, entry.batch);
        }
        if (entry.call !== undefined) {
          const text = `cancelled by the ${side.name} before an answer came`;
          concluded(entry.call, { ok: false, error: text });
        }
        if (entry.state === 'held') {
          // The other side never saw the request: withdraw it here so it is never sent.
          entry.withdrawn = true;
          entry.abort?.abort();
          report(
            'info',
            'withdrawn',
            `request ${JSON.stringify(params.requestId)} withdrawn by the ${side.name} before it was forwarded`,
          );
          return;
        }
      }
    }
    send(other(side), message, side === upstream ? raw : undefined);
  }

  function routeRequest(
    side: Side,
    message: Extract<Message, { kind: 'request' }>,
    batch: Batch | undefined,
    raw: unknown,
  ): void {
    const { id, method, params } = message;
    if (batch !== undefined) batch.open += 1;
    if (side.pending.has(id)) {
      const text = `request id ${JSON.stringify(id)} is already in flight; ids must be unique`;
      report('warn', 'duplicate_id', `the ${side.name} reused ${text.slice(11)}`);
      const reply = errorAnswer(id, ErrorCode.invalidRequest, text);
      const kind = kindOf(method, side.name);
      // A refused attempt at a decided kind belongs in the audit, as an unreadable one does.
      if (kind !== undefined)
        track(refuseAttempt(side, kind.actionType, nameOf(params), text, reply, batch, true));
      else answer(side, reply, batch);
      return;
    }
    if (side === client && method === 'initialize') {
      if (initialized) {
        answer(
          side,
          errorAnswer(id, ErrorCode.invalidRequest, 'the session is already initialized'),
          batch,
        );
        return;
      }
      initialized = true;
      clientAgentId = clientNameOf(params);
      clientElicits =
        isJsonObject(params?.capabilities) && isJsonObject(params.capabilities.elicitation);
    }
    const kind = kindOf(method, side.name);
    if (kind !== undefined && decides(kind)) {
      decide(side, kind, message, batch);
      return;
    }
    if (!isKnownRequest(method, side.name)) {
      const text = `'${method}' is not an MCP method; Kvlar does not forward what it cannot classify`;
      report('warn', 'unknown_method', `refused '${method}' from the ${side.name}`);
      answer(side, errorAnswer(id, ErrorCode.methodNotFound, text), batch);
      return;
    }
    side.pending.set(id, {
      method,
      state: 'forwarded',
      withdrawn: false,
      batch,
      abort: undefined,
      forwardedAt: performance.now(),
    });
    // The client's requests are rebuilt from the parsed value; the server's pass as received.
    send(other(side), message.message, side === upstream ? raw : undefined);
  }

  function decides(kind: ActionKind): boolean {
    return (
      kind.actionType === TOOL_CALL ||
      options.strict === true ||
      engineOf().governs(kind.actionType)
    );
  }

  // ── deciding ───────────────────────────────────────────────────────────────────────────────

  function decide(
    side: Side,
    kind: ActionKind,
    message: Extract<Message, { kind: 'request' }>,
    batch: Batch | undefined,
  ): void {
    const { id } = message;
    const subject = subjectOf(kind, message.params);
    if (!subject.ok) {
      const reply = errorAnswer(id, ErrorCode.invalidParams, subject.reason);
      const resource = nameOf(message.params);
      track(refuseAttempt(side, kind.actionType, resource, subject.reason, reply, batch, true));
      return;
    }
    const { resource, parameters } = subject.subject;
    const action: Action = {
      actionType: kind.actionType,
      resource,
      agentId: agentId(),
      ...(serverName === undefined ? {} : { server: serverName }),
      parameters,
    };
    const decision = evaluate(action);
    const entry: Pending = {
      method: message.method,
      state: 'held',
      withdrawn: false,
      batch,
      abort: undefined,
    };
    side.pending.set(id, entry);
    const forwarded = {
      jsonrpc: '2.0',
      id,
      method: message.method,
      ...(message.params === undefined ? {} : { params: subject.subject.params }),
    };
    track(carryOut(side, kind, action, decision, entry, id, forwarded));
  }

  function evaluate(action: Action): Decision {
    let decision: Decision;
    const started = performance.now();
    try {
      decision = engineOf().evaluate(action);
    } catch (error) {
      report('error', 'engine_error', `the engine failed: ${messageOf(error)}; denied`);
      decision = {
        type: 'deny',
        ruleId: INTERNAL_ERROR_RULE,
        reason: 'internal error while evaluating the policy',
      };
    }
    count(action, decision, performance.now() - started);
    return decision;
  }

  function count(action: Action, decision: Decision, evaluationMs: number): void {
    stats.evaluated += 1;
    if (decision.type === 'allow') stats.allowed += 1;
    else if (decision.type === 'deny') stats.denied += 1;
    else stats.approval += 1;
    try {
      options.onDecision?.({ action, decision, evaluationMs });
    } catch {
      // An observer's failure must not change what the proxy does.
    }
  }

  /** Records, then forwards or answers. Runs concurrently with every other message. */
  async function carryOut(
    side: Side,
    kind: ActionKind,
    action: Action,
    decision: Decision,
    entry: Pending,
    id: JsonRpcId,
    forwarded: JsonObject,
  ): Promise<void> {
    const recordId = ids();
    const recorded = await record(action, decision, outcomeOf(decision), { id: recordId });
    let final = decision;
    if (!recorded && auditFailure === 'deny' && (decision.type === 'allow' || mode === 'audit')) {
      final = {
        type: 'deny',
        ruleId: AUDIT_FAILURE_RULE,
        reason: 'the audit log could not record this call, so it was not forwarded (fail-closed)',
      };
    }
    const shadow = mode === 'audit' && final.ruleId !== AUDIT_FAILURE_RULE;
    const approver = approverNow();
    if (!shadow && final.type === 'require_approval' && approver !== undefined) {
      const progress = side === client ? keepAlive(forwarded, final) : undefined;
      try {
        final = await awaitApproval(approver, action, final, entry, recordId);
      } finally {
        if (progress !== undefined) clearInterval(progress);
      }
    }
    if (entry.withdrawn || side.closed) {
      // Only this entry: the client may have reused the id of a cancelled request since.
      if (side.pending.get(id) === entry) side.pending.delete(id);
      return;
    }
    if (shadow || final.type === 'allow') {
      const target = other(side);
      if (target.closed) {
        settle(side, id, errorAnswer(id, ErrorCode.upstreamError, `the ${target.name} is gone`));
        return;
      }
      entry.state = 'forwarded';
      entry.forwardedAt = performance.now();
      if (auditResults) {
        entry.call = {
          recordId,
          action,
          outcome: outcomeOf(final),
          ruleId: final.ruleId,
          forwardedAt: clock(),
        };
      }
      send(target, forwarded);
      return;
    }
    settle(
      side,
      id,
      kind.actionType === TOOL_CALL
        ? toolDecisionAnswer(id, final, action.resource)
        : requestDecisionAnswer(id, final, action.resource, kind.actionType),
    );
  }

  /**
   * While a call waits for a person, progress notifications (when the request asked for them
   * with a progress token) tell the client it is not forgotten, so it does not time out.
   */
  function keepAlive(forwarded: JsonObject, decision: Decision): NodeJS.Timeout | undefined {
    const params = isJsonObject(forwarded.params) ? forwarded.params : undefined;
    const meta = isJsonObject(params?._meta) ? params._meta : undefined;
    const token = meta?.progressToken;
    if (typeof token !== 'string' && typeof token !== 'number') return undefined;
    const started = clock();
    // MCP wants progress to grow with every notification: a tick count, the time in the message.
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
      const waited = Math.round((clock() - started) / 1000);
      send(client, {
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: {
          progressToken: token,
          progress: ticks,
          message: `Waiting for approval (rule ${decision.ruleId}): ${waited} s`,
        },
      });
    }, progressIntervalMs);
    timer.unref?.();
    return timer;
  }

  /** The configured approver, with the client's own prompt beside it when it can ask. */
  function approverNow(): Approver | undefined {
    const approvers: Approver[] = [];
    if (options.approver !== undefined) approvers.push(options.approver);
    if (clientElicits && options.elicitApprovals !== false && !client.closed)
      approvers.push(elicitation);
    return approvers.length === 0 ? undefined : combineApprovers(approvers);
  }

  /** Sends a request of Kvlar's own to the client; its answer never reaches the server. */
  function askClient(method: string, params: JsonObject, signal: AbortSignal): Promise<JsonObject> {
    return new Promise((resolve, reject) => {
      const id = `kvlar-${ids()}`;
      const stop = () => {
        if (!asked.delete(id)) return;
        send(client, {
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: 'no longer needed' },
        });
        reject(new Error('the question was withdrawn'));
      };
      asked.set(id, {
        resolve: (message) => {
          signal.removeEventListener('abort', stop);
          resolve(message);
        },
        reject: (error) => {
          signal.removeEventListener('abort', stop);
          reject(error);
        },
      });
      signal.addEventListener('abort', stop, { once: true });
      send(client, { jsonrpc: '2.0', id, method, params });
    });
  }

  /**
   * The first line of the client's prompt. The agent chose the tool name and the arguments: they
   * are shown with control, bidi and invisible characters escaped, as on every approval channel.
   */
  function promptHead(request: ApprovalRequest): string {
    const server = request.server === '' ? '' : ` on ${visibleText(request.server)}`;
    return `Kvlar: the agent wants to run "${visibleText(request.resource)}"${server}`;
  }

  function promptRule(request: ApprovalRequest): string {
    return `Policy rule ${visibleText(`${request.decision.ruleId}: ${request.decision.reason ?? ''}`)}`;
  }

  /** The longest arguments (as JSON) the client's prompt shows, and so may approve. */
  const MAX_ELICITED_ARGUMENTS = 2000;

  const elicitation: Approver = {
    async request(request, signal) {
      const shown = JSON.stringify(request.arguments);
      // An approval releases the whole call: one the prompt cannot show whole is not offered
      // there, and waits for a channel that shows it whole (the approvals page, kvlar approvals).
      if (shown.length > MAX_ELICITED_ARGUMENTS) return denyOnly(request, shown.length, signal);
      const answer = await askClient(
        'elicitation/create',
        {
          message:
            `${promptHead(request)} with ${visibleText(shown)}.\n` +
            `${promptRule(request)}\nApprove this call?`,
          requestedSchema: decisionForm(['approve', 'Approve this call'], DENY_CHOICE),
        },
        signal,
      );
      const who = `${clientAgentId ?? 'the client'} (its user)`;
      if (isJsonObject(answer.error))
        throw new Error(`the client could not ask: ${String(answer.error.message)}`);
      const result = isJsonObject(answer.result) ? answer.result : {};
      const content = isJsonObject(result.content) ? result.content : {};
      const reason =
        typeof content.reason === 'string' && content.reason !== '' ? content.reason : undefined;
      const approved = result.action === 'accept' && content.decision === 'approve';
      return {
        approved,
        approver: who,
        channel: 'elicitation',
        ...(approved
          ? {}
          : {
              reason:
                reason ??
                (result.action === 'accept'
                  ? 'denied at the client'
                  : `the user chose ${String(result.action)}`),
            }),
      };
    },
  };

  /**
   * The client's prompt for a call too long to show in it: it can deny the call, never approve
   * it. With another approver configured, the call stays held for it whatever else the client
   * answers; without one, nothing could approve the call, so it is denied at once.
   */
  async function denyOnly(
    request: ApprovalRequest,
    length: number,
    signal: AbortSignal,
  ): Promise<ApprovalAnswer> {
    const elsewhere = "on Kvlar's approvals page or with kvlar approve (kvlar proxy --admin)";
    const tooLong = `its arguments are too long to show in the client's prompt (${length} characters)`;
    if (options.approver === undefined) {
      return {
        approved: false,
        approver: 'kvlar',
        channel: 'elicitation',
        reason: `${tooLong}: it can be approved only ${elsewhere}`,
      };
    }
    const held = () =>
      new Promise<never>((_, reject) => {
        const withdrawn = () => reject(new Error('the call was withdrawn'));
        if (signal.aborted) withdrawn();
        else signal.addEventListener('abort', withdrawn, { once: true });
      });
    const answer = await askClient(
      'elicitation/create',
      {
        message:
          `${promptHead(request)}, but ${tooLong}.\n${promptRule(request)}\n` +
          `See the whole call and approve it ${elsewhere}. Here you can only deny it.`,
        requestedSchema: decisionForm(DENY_CHOICE),
      },
      signal,
    ).catch(held);
    const result = isJsonObject(answer.result) ? answer.result : {};
    const content = isJsonObject(result.content) ? result.content : {};
    // Only a denial counts; anything else (approve included) leaves the call to the other channels.
    if (result.action !== 'accept' || content.decision !== 'deny') return held();
    const reason =
      typeof content.reason === 'string' && content.reason !== '' ? content.reason : undefined;
    return {
      approved: false,
      approver: `${clientAgentId ?? 'the client'} (its user)`,
      channel: 'elicitation',
      reason: reason ?? 'denied at the client',
    };
  }

  async function awaitApproval(
    approver: Approver,
    action: Action,
    decision: Decision,
    entry: Pending,
    recordId: string,
  ): Promise<Decision> {
    const started = clock();
    const controller = new AbortController();
    entry.abort = controller;
    if (entry.withdrawn) controller.abort();
    const signal = controller.signal;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), approvalTimeoutMs);
    });
    let result: ApprovalAnswer | 'timeout' | 'error';
    try {
      result = await Promise.race([
        approver.request(
          {
            id: ids(),
            actionType: action.actionType ?? TOOL_CALL,
            resource: action.resource,
            arguments: action.parameters ?? {},
            agentId: action.agentId ?? '',
            server: serverLabel,
            decision,
            requestedAt: started,
          },
          signal,
        ),
        timeout,
      ]);
    } catch (error) {
      report('warn', 'approver_failed', `the approver failed: ${messageOf(error)}; denied`);
      result = 'error';
    } finally {
      clearTimeout(timer);
      entry.abort?.abort();
    }
    const latency = clock() - started;
    if (entry.withdrawn) return decision;
    const approved = typeof result === 'object' && result.approved;
    const final: Decision = approved
      ? {
          type: 'allow',
          ruleId: decision.ruleId,
          ...(decision.policy === undefined ? {} : { policy: decision.policy }),
        }
      : {
          type: 'deny',
          ruleId: decision.ruleId,
          reason:
            result === 'timeout'
              ? `no approval within ${Math.round(approvalTimeoutMs / 1000)} s (denied)`
              : result === 'error'
                ? 'the approver failed (denied)'
                : (result.reason ?? 'denied by human reviewer'),
          ...(decision.policy === undefined ? {} : { policy: decision.policy }),
        };
    const recorded = await record(action, final, approved ? 'allowed' : 'denied', {
      callId: recordId,
      approval: {
        approver: typeof result === 'object' ? result.approver : 'kvlar',
        channel: typeof result === 'object' ? result.channel : result,
        decision: approved ? 'approved' : typeof result === 'object' ? 'denied' : result,
        latency_ms: latency,
      },
    });
    if (!recorded && approved && auditFailure === 'deny') {
      return {
        type: 'deny',
        ruleId: AUDIT_FAILURE_RULE,
        reason: 'the audit log could not record the approval (fail-closed)',
      };
    }
    return final;
  }

  /**
   * A request of a decided kind (`actionType`) that could not be read or was refused, or a
   * client message that could not be read at all: audited as denied, answered with `reply`.
   */
  async function refuseAttempt(
    side: Side,
    actionType: string,
    resource: string,
    reason: string,
    reply: unknown,
    batch: Batch | undefined,
    opened = false,
  ): Promise<void> {
    if (batch !== undefined && reply !== undefined && !opened) batch.open += 1;
    const decision: Decision = { type: 'deny', ruleId: INVALID_REQUEST_RULE, reason };
    const action: Action = { actionType, resource, agentId: agentId(), parameters: {} };
    count(action, decision, 0);
    await record(action, decision, 'denied');
    if (reply !== undefined) answer(side, reply, batch);
  }

  async function record(
    action: Action,
    decision: Decision,
    outcome: AuditOutcome,
    links: { id?: string; callId?: string; approval?: AuditEntry['approval'] } = {},
  ): Promise<boolean> {
    const { id, callId, approval } = links;
    // No spread first: an object literal that starts with one is built member by member on a
    // slow path, and every later read of it is slow too (measured: 65,000 instructions a call).
    const entry: AuditEntry = {
      action_type: action.actionType ?? TOOL_CALL,
      resource: action.resource,
      agent_id: action.agentId ?? '',
      outcome,
      matched_rule: decision.ruleId,
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
      parameters: action.parameters ?? {},
      session,
      server: serverLabel,
      ...(mode === 'audit' ? { shadow: true as const } : {}),
      policy: policyOf(engineOf()),
      ...(id === undefined ? {} : { id }),
      ...(approval === undefined ? {} : { approval }),
      ...(callId === undefined ? {} : { call_id: callId }),
    };
    try {
      await options.audit.write(entry);
      return true;
    } catch (error) {
      const what =
        auditFailure === 'deny' ? 'the call is denied' : 'forwarded anyway (--audit-failure allow)';
      report('error', 'audit_failed', `the audit log failed: ${messageOf(error)}; ${what}`);
      return false;
    }
  }

  /** A forwarded call ended (answered, cut off, cancelled): its result record, in the background. */
  function concluded(call: DecidedCall, result: CallResult): void {
    track(recordResult(call, result));
  }

  async function recordResult(call: DecidedCall, result: CallResult): Promise<void> {
    const { action } = call;
    const entry: AuditEntry = {
      action_type: action.actionType ?? TOOL_CALL,
      resource: action.resource,
      agent_id: action.agentId ?? '',
      outcome: call.outcome,
      matched_rule: call.ruleId,
      session,
      server: serverLabel,
      ...(mode === 'audit' ? { shadow: true as const } : {}),
      policy: policyOf(engineOf()),
      call_id: call.recordId,
      upstream: {
        ok: result.ok,
        ...(result.error === undefined ? {} : { error: result.error }),
        duration_ms: Math.max(0, clock() - call.forwardedAt),
      },
    };
    try {
      await options.audit.write(entry);
    } catch (error) {
      report(
        'error',
        'audit_failed',
        `the audit log could not record the result of a call to '${action.resource}': ${messageOf(error)}`,
      );
    }
  }

  function filterToolList(message: JsonObject): JsonObject {
    const result = message.result as JsonObject;
    if (!Array.isArray(result.tools)) return message;
    const engineNow = engineOf();
    const kept = result.tools.filter((tool: unknown) => {
      if (!isJsonObject(tool) || typeof tool.name !== 'string') return true;
      const denied = engineNow.alwaysDenies({
        actionType: TOOL_CALL,
        resource: tool.name,
        agentId: agentId(),
        ...(serverName === undefined ? {} : { server: serverName }),
      });
      return denied === undefined;
    });
    if (kept.length === result.tools.length) return message;
    report(
      'debug',
      'tools_filtered',
      `hid ${result.tools.length - kept.length} tool(s) the policy always denies`,
    );
    return { ...message, result: { ...result, tools: kept } };
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────────────────────

  function sideClosed(side: Side): void {
    if (side.closed) return;
    side.closed = true;
    if (side === upstream) {
      // Every request the server will now never answer gets an answer from us.
      for (const [id, entry] of client.pending) {
        if (entry.state !== 'forwarded') continue;
        client.pending.delete(id);
        const text = 'the server closed the connection before answering';
        answer(client, errorAnswer(id, ErrorCode.upstreamError, text), entry.batch);
        if (entry.call !== undefined) concluded(entry.call, { ok: false, error: text });
      }
    }
    for (const entry of side.pending.values()) {
      entry.withdrawn = true;
      entry.abort?.abort();
    }
    void end(side === client ? 'client_closed' : 'upstream_closed');
  }

  async function end(reason: ProxyEnd['reason']): Promise<ProxyEnd> {
    if (ending !== undefined) return closed;
    ending = { reason };
    if (running > 0) {
      await new Promise<void>((resolve) => {
        whenIdle = resolve;
      });
      whenIdle = undefined;
    }
    await Promise.allSettled([closeSide(upstream), closeSide(client)]);
    resolveClosed(ending);
    return ending;
  }

  async function closeSide(side: Side): Promise<void> {
    const wasClosed = side.closed;
    side.closed = true;
    if (!wasClosed) await side.transport.close();
  }

  function onError(side: Side) {
    return (error: Error) => {
      if (error instanceof FrameError) {
        handleFrameError(side, error);
        return;
      }
      report('warn', 'transport_error', `${side.name} transport: ${error.message}`);
    };
  }

  function handleFrameError(side: Side, error: FrameError): void {
    report('warn', 'frame_error', `unreadable message from the ${side.name}: ${error.message}`);
    const sniffed = error.sniffedId;
    if (side === client) {
      const code =
        error.kind === 'parse' || error.kind === 'not_utf8'
          ? ErrorCode.parseError
          : ErrorCode.invalidRequest;
      // JSON-RPC answers a message it could not read with id null; an oversized one whose id
      // could be read gets it, so the client is not left waiting.
      const id =
        error.kind === 'too_large' && sniffed !== undefined && !client.pending.has(sniffed)
          ? sniffed
          : null;
      const reply = errorAnswer(id, code, error.message);
      track(refuseAttempt(side, UNREADABLE_ACTION_TYPE, '', error.message, reply, undefined));
      return;
    }
    if (sniffed !== undefined && client.pending.get(sniffed)?.state === 'forwarded') {
      settle(
        client,
        sniffed,
        errorAnswer(
          sniffed,
          ErrorCode.upstreamError,
          `the server's answer could not be relayed: ${error.message}`,
        ),
      );
    }
  }

  function install(side: Side): void {
    side.transport.onmessage = (value: unknown) => {
      try {
        receive(side, value);
      } catch (error) {
        report(
          'error',
          'internal_error',
          `internal error handling a message from the ${side.name}: ${messageOf(error)}`,
        );
      }
    };
    side.transport.onerror = onError(side);
    side.transport.onclose = () => sideClosed(side);
  }

  return {
    session,
    stats,
    closed,
    async start() {
      install(client);
      install(upstream);
      await upstream.transport.start();
      await client.transport.start();
    },
    async close() {
      // Requests the server will not get to answer: the client hears so rather than nothing.
      for (const [id, entry] of client.pending) {
        if (entry.state !== 'forwarded') continue;
        client.pending.delete(id);
        const text = 'Kvlar is shutting down; the request was not answered';
        answer(client, errorAnswer(id, ErrorCode.upstreamError, text), entry.batch);
        if (entry.call !== undefined) concluded(entry.call, { ok: false, error: text });
      }
      for (const side of [client, upstream]) {
        for (const entry of side.pending.values()) {
          if (entry.state !== 'held') continue;
          entry.withdrawn = true;
          entry.abort?.abort();
        }
      }
      return end('closed');
    },
  };
}

function outcomeOf(decision: Decision): AuditOutcome {
  return decision.type === 'allow'
    ? 'allowed'
    : decision.type === 'deny'
      ? 'denied'
      : 'pending_approval';
}

/**
 * What an answer says about its call: a JSON-RPC error, a tool result with `isError`, or ok. A
 * large answer relayed unread (an envelope) has its `isError` read from its bytes.
 */
function resultOf(message: unknown, raw: unknown): CallResult {
  if (!isJsonObject(message)) return { ok: true };
  const error = message.error;
  if (isJsonObject(error)) {
    const text = typeof error.message === 'string' ? error.message : 'no message';
    return { ok: false, error: clipped(`${text} (JSON-RPC ${String(error.code)})`) };
  }
  const result = message.result;
  if (isJsonObject(result)) {
    if (result.isError !== true) return { ok: true };
    const texts = Array.isArray(result.content)
      ? result.content.flatMap((part: unknown) =>
          isJsonObject(part) && part.type === 'text' && typeof part.text === 'string'
            ? [part.text]
            : [],
        )
      : [];
    return { ok: false, error: clipped(texts.length > 0 ? texts.join('\n') : 'the tool failed') };
  }
  const info = isObjectLike(raw) ? frameInfo(raw) : undefined;
  if (info?.resultIsError === true) {
    return { ok: false, error: 'the tool failed (a large answer, relayed unread)' };
  }
  return { ok: true };
}

function holdsCarriageReturn(line: Buffer | readonly Buffer[]): boolean {
  return Buffer.isBuffer(line) ? line.includes(0x0d) : line.some((part) => part.includes(0x0d));
}

function clipped(text: string): string {
  if (text.length <= RESULT_ERROR_CHARS) return text;
  // Not between the two halves of a surrogate pair.
  const high = text.charCodeAt(RESULT_ERROR_CHARS - 1);
  const end = high >= 0xd800 && high <= 0xdbff ? RESULT_ERROR_CHARS - 1 : RESULT_ERROR_CHARS;
  return `${text.slice(0, end)}…`;
}

function clientNameOf(params: JsonObject | undefined): string | undefined {
  const info = params?.clientInfo;
  if (!isJsonObject(info) || typeof info.name !== 'string') return undefined;
  const name = info.name.trim();
  return name.length > 0 && name.length <= 256 ? name : undefined;
}

function nameOf(params: JsonObject | undefined): string {
  const name = params?.name ?? params?.uri;
  if (typeof name === 'string') return name;
  if (name === undefined) return '';
  return (JSON.stringify(name) ?? '').slice(0, 200);
}

const NOT_JSON = Symbol('not JSON');

function jsonCopy(value: unknown): unknown {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? NOT_JSON : JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function isObjectLike(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const policyInfos = new WeakMap<Engine, AuditPolicy>();

/** Named after the engine's policies, hashed over their resolved form; computed once per engine. */
export function policyInfo(engine: Engine): AuditPolicy {
  const known = policyInfos.get(engine);
  if (known !== undefined) return known;
  const info = defaultPolicyInfo(engine);
  policyInfos.set(engine, info);
  return info;
}

function defaultPolicyInfo(engine: Engine): AuditPolicy {
  const names = engine.policies.map((policy) => policy.name);
  const versions = engine.policies.map((policy) => policy.version);
  const hash = createHash('sha256').update(JSON.stringify(engine.policies)).digest('hex');
  return { name: names.join('+'), version: versions.join('+'), hash };
}
