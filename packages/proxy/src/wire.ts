/**
 * What the proxy itself puts on the wire: JSON-RPC error codes and the answers it writes in the
 * name of a server it did not forward to. Local errors use KvlarError's string codes; these
 * numbers only ever travel inside JSON-RPC messages.
 */
import type { Decision } from '@kvlar/core';

/** A JSON-RPC request id. */
export type JsonRpcId = string | number;

/** JSON-RPC 2.0's own codes, and the implementation-defined ones Kvlar uses (-32000…-32099). */
export const ErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** The upstream server is gone, or its answer could not be relayed (the Rust code). */
  upstreamError: -32000,
  /** A request other than `tools/call` was denied by policy (a tool call gets a tool result). */
  policyDenied: -32001,
} as const;

export type WireErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The `_meta` key under which a Kvlar answer carries its decision (MCP's prefix/name form). */
export const DECISION_META_KEY = 'kvlar.io/decision';

/** The structured decision a client can read instead of parsing the text. */
export interface WireDecision {
  readonly code: 'POLICY_DENY' | 'POLICY_DEFAULT_DENY' | 'POLICY_APPROVAL_REQUIRED';
  readonly decision: 'deny' | 'require_approval';
  readonly rule_id: string;
  readonly reason: string;
  readonly tool: string;
  readonly action_type: string;
  readonly policy?: string;
}

export interface ErrorAnswer {
  readonly jsonrpc: '2.0';
  readonly id: JsonRpcId | null;
  readonly error: { readonly code: number; readonly message: string; readonly data?: unknown };
}

export function errorAnswer(
  id: JsonRpcId | null,
  code: WireErrorCode,
  message: string,
  data?: unknown,
): ErrorAnswer {
  return {
    jsonrpc: '2.0',
    id,
    error: { code, message: `[KVLAR] ${message}`, ...(data === undefined ? {} : { data }) },
  };
}

/**
 * The decision as the agent reads it. The first lines are the Rust Kvlar's, word for word, so
 * prompts and tests written against it keep working.
 */
export function decisionText(decision: Decision, tool: string): string {
  const reason = decision.reason ?? '';
  if (decision.type === 'require_approval') {
    return (
      `[KVLAR — APPROVAL REQUIRED]\nTool: ${tool}\nPolicy rule: ${decision.ruleId}\n` +
      `Reason: ${reason}\n\nThis action requires explicit human approval before it can ` +
      'proceed. Tell the user what action needs their approval and why.'
    );
  }
  return (
    `[BLOCKED BY KVLAR]\nTool: ${tool}\nPolicy rule: ${decision.ruleId}\nReason: ${reason}\n\n` +
    'This action was blocked by the Kvlar security policy. Tell the user exactly what was ' +
    'blocked and why.'
  );
}

export function wireDecision(decision: Decision, tool: string, actionType: string): WireDecision {
  const approval = decision.type === 'require_approval';
  return {
    code: approval
      ? 'POLICY_APPROVAL_REQUIRED'
      : decision.ruleId === '_default_deny'
        ? 'POLICY_DEFAULT_DENY'
        : 'POLICY_DENY',
    decision: approval ? 'require_approval' : 'deny',
    rule_id: decision.ruleId,
    reason: decision.reason ?? '',
    tool,
    action_type: actionType,
    ...(decision.policy === undefined ? {} : { policy: decision.policy }),
  };
}

/**
 * A denied or unapproved `tools/call`: a normal tool result with `isError: true`, so the model
 * reads it as the tool's answer and can tell the user. `_kvlar` is the Rust field, kept for its
 * consumers; `_meta` carries the same decision where MCP puts metadata.
 */
export function toolDecisionAnswer(id: JsonRpcId, decision: Decision, tool: string) {
  const structured = wireDecision(decision, tool, 'tool_call');
  return {
    jsonrpc: '2.0' as const,
    id,
    result: {
      content: [{ type: 'text', text: decisionText(decision, tool) }],
      isError: true,
      _kvlar: structured,
      _meta: { [DECISION_META_KEY]: structured },
    },
  };
}

/** A denied request of another kind (`resources/read`, `sampling/createMessage`…): an error. */
export function requestDecisionAnswer(
  id: JsonRpcId,
  decision: Decision,
  resource: string,
  actionType: string,
): ErrorAnswer {
  const structured = wireDecision(decision, resource, actionType);
  const first = decisionText(decision, resource).split('\n', 1)[0] ?? '';
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: ErrorCode.policyDenied,
      message: `${first} ${actionType} ${resource}: ${structured.reason} (rule ${decision.ruleId})`,
      data: { [DECISION_META_KEY]: structured },
    },
  };
}
