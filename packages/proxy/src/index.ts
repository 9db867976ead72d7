/**
 * @kvlar/proxy: Kvlar's MCP proxy. `createProxy` sits between any two SDK `Transport`s (stdio,
 * TCP, in-memory), evaluates every tool call against the policy engine, writes the decision to
 * the audit sink before anything is forwarded, and forwards only what the engine evaluated.
 * `startStdioProxy` and `startTcpProxy` run it the way `kvlar proxy` does.
 */

export {
  type AdminApprovals,
  type AdminOptions,
  type AdminServer,
  createMetrics,
  type Health,
  isLoopback,
  type MetricsOptions,
  type ProxyMetrics,
  startAdminServer,
} from './admin.js';
export {
  type ApprovalQueue,
  type ApprovalQueueOptions,
  approvalDigest,
  createApprovalQueue,
  type DecideResult,
  type PendingApproval,
} from './approval-queue.js';
export {
  type ApprovalAnswer,
  type ApprovalRequest,
  type Approver,
  combineApprovers,
} from './approver.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  type DuplicateKey,
  type Frame,
  FrameError,
  type FrameErrorKind,
  LineSplitter,
  MAX_NESTING_DEPTH,
  type OversizeFrame,
} from './framing.js';
export { ACTION_KINDS, type ActionKind, TOOL_CALL } from './kinds.js';
export {
  type FrameInfo,
  frameInfo,
  LineTransport,
  type LineTransportOptions,
} from './line-transport.js';
export {
  DEFAULT_RELOAD_DEBOUNCE_MS,
  type PolicyLoad,
  type PolicyLoaded,
  type PolicyLoadFailed,
  type PolicyWatcher,
  type PolicyWatcherOptions,
  watchPolicies,
} from './policy-watcher.js';
export {
  type AnswerEvent,
  AUDIT_FAILURE_RULE,
  createProxy,
  DEFAULT_AGENT_ID,
  type DecisionEvent,
  INTERNAL_ERROR_RULE,
  INVALID_REQUEST_RULE,
  type ProxyEnd,
  type ProxyOptions,
  type ProxyReport,
  type ProxySession,
  type ProxyStats,
  policyInfo,
  UNREADABLE_ACTION_TYPE,
} from './proxy.js';
export { releaseReads } from './release-reads.js';
export {
  type ServerCommand,
  type ServerExit,
  type ServerProcess,
  type SpawnOptions,
  serverLabel,
  spawnServer,
} from './server-process.js';
export {
  type SessionOptions,
  type StdioProxy,
  type StdioProxyOptions,
  type StdioProxyResult,
  startStdioProxy,
} from './stdio.js';
export {
  type HostPort,
  parseHostPort,
  startTcpProxy,
  type TcpProxy,
  type TcpProxyOptions,
} from './tcp.js';
export {
  createWebhookApprover,
  signWebhookBody,
  type WebhookApproverOptions,
  type WebhookRequestBody,
} from './webhook-approver.js';
export {
  DECISION_META_KEY,
  ErrorCode,
  type JsonRpcId,
  type WireDecision,
} from './wire.js';
