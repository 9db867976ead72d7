/** What an agent is trying to do, as the engine sees it. */
export interface Action {
  /** `tool_call` for MCP `tools/call` (the default); the proxy names other kinds of message. */
  readonly actionType?: string;
  /** The tool name (or resource URI, prompt name) being acted on. */
  readonly resource: string;
  /** Who is acting. Default: the empty string, which only patterns like `*` match. */
  readonly agentId?: string;
  /** The MCP server's name, for `match_on.servers`. Absent: rules naming servers do not match. */
  readonly server?: string;
  /** The tool's arguments. Looked up as own properties only. */
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** The three answers a policy can give. */
export type DecisionType = 'allow' | 'deny' | 'require_approval';

/** The engine's answer. A deny is data, never an exception. */
export interface Decision {
  readonly type: DecisionType;
  /**
   * The id of the rule that decided, or `_default_deny` / `_default_allow`, or the engine's own
   * `_invalid_action` / `_ambiguous_field`.
   */
  readonly ruleId: string;
  /** Why; absent for allow rules, which carry no reason. */
  readonly reason?: string;
  /**
   * The name of the policy the deciding rule came from; absent for `_default_deny`,
   * `_invalid_action` and `_ambiguous_field`.
   */
  readonly policy?: string;
}

/** The rule id of the deny when no rule matched (fail-closed). */
export const DEFAULT_DENY_RULE = '_default_deny';
/** The rule id of the allow that `default_outcome: allow` adds after a policy's rules. */
export const DEFAULT_ALLOW_RULE = '_default_allow';
/** The reason of a `_default_deny`. */
export const DEFAULT_DENY_REASON = 'no matching policy rule — denied by default (fail-closed)';
