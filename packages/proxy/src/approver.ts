/**
 * The approver: who answers a `require_approval` decision. The proxy holds only the call that
 * waits; every other message goes on. Anything but an explicit approval is a deny.
 */
import type { Decision } from '@kvlar/core';

/** A held call, as an approver is asked about it. */
export interface ApprovalRequest {
  /** Unique per held call. */
  readonly id: string;
  readonly actionType: string;
  /** The tool name (or URI, prompt, method) the call acts on. */
  readonly resource: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly agentId: string;
  readonly server: string;
  readonly decision: Decision;
  /** When the call was held (ms since the epoch, from the proxy's clock). */
  readonly requestedAt: number;
}

/** An approver's answer. */
export interface ApprovalAnswer {
  readonly approved: boolean;
  /** Why, when a human gave a reason. */
  readonly reason?: string;
  /** Who answered (a user name, a host…), for the audit. */
  readonly approver: string;
  /** Through what: `webhook`, `admin_http`, `elicitation`… */
  readonly channel: string;
}

/** Who answers `require_approval` decisions: a person, a queue, a webhook (see `createProxy`). */
export interface Approver {
  /**
   * Resolves with the answer. `signal` aborts when the client withdraws the call or the proxy
   * stops; the approver should then stop waiting. A rejection is treated as a deny.
   */
  request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer>;
}

/**
 * Several approvers asked at once; the first to answer decides and the others are told to stop
 * waiting. A failure is an answer too: any approver that fails denies the call (fail-closed).
 */
export function combineApprovers(approvers: readonly Approver[]): Approver {
  if (approvers.length === 1) return approvers[0] as Approver;
  return {
    request(request, signal) {
      const stop = new AbortController();
      const abort = () => stop.abort();
      if (signal.aborted) stop.abort();
      else signal.addEventListener('abort', abort, { once: true });
      const done = () => {
        signal.removeEventListener('abort', abort);
        stop.abort();
      };
      return Promise.race(approvers.map((approver) => approver.request(request, stop.signal))).then(
        (answer) => {
          done();
          return answer;
        },
        (error: unknown) => {
          done();
          throw error;
        },
      );
    },
  };
}
