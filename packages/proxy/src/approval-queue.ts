/**
 * Held calls waiting for a person: the approver behind the admin endpoint's approvals API, its
 * web page and `kvlar approve` / `kvlar deny`. Each held call is bound to its exact tool and
 * arguments by a digest the person sees; an answer is used once; a call the client withdrew (or
 * that timed out) leaves the queue, so a late approval can never run it.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { ApprovalAnswer, ApprovalRequest, Approver } from './approver.js';

/** What a person is shown about a held call. Arguments are as the redactor leaves them. */
export interface PendingApproval {
  readonly id: string;
  /** Hex SHA-256 over the action type, tool and exact arguments: what an answer applies to. */
  readonly digest: string;
  readonly action_type: string;
  readonly tool: string;
  readonly arguments: unknown;
  readonly agent_id: string;
  readonly server: string;
  readonly rule_id: string;
  readonly reason: string;
  /** RFC 3339. */
  readonly requested_at: string;
  readonly age_ms: number;
}

/** Options of `createApprovalQueue`. */
export interface ApprovalQueueOptions {
  /**
   * Applied to arguments before anyone sees them: the audit redactor's `value`, typically. It is
   * passed `{ approverView: true }`, so that a value under a secret-looking name is hidden only
   * when it cannot hold a command: a person approves all of the call, markers included.
   */
  readonly redact?: (value: unknown, options: { readonly approverView: true }) => unknown;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly clock?: () => number;
  /** Ids for held calls. Default `crypto.randomUUID`. */
  readonly ids?: () => string;
  /** Told when a call starts or stops waiting (to refresh a page, say). */
  readonly onChange?: () => void;
}

/** Whether `ApprovalQueue.decide` answered a held call, and why not. */
export type DecideResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not_found' | 'digest_mismatch' };

/** An `Approver` that holds calls until `decide` answers them (or the call is withdrawn). */
export interface ApprovalQueue extends Approver {
  /** Held calls, oldest first. */
  list(): readonly PendingApproval[];
  /**
   * Answers a held call. With `digest`, only if the call is still the one the person saw. The
   * first answer wins; a second one finds nothing.
   */
  decide(
    id: string,
    answer: {
      readonly approved: boolean;
      readonly reason?: string;
      readonly approver: string;
      readonly channel: string;
    },
    digest?: string,
  ): DecideResult;
}

interface Held {
  readonly view: Omit<PendingApproval, 'age_ms'>;
  readonly since: number;
  readonly settle: (answer: ApprovalAnswer) => void;
}

/** Hex SHA-256 over the action type, tool and arguments: binds an answer to the exact call. */
export function approvalDigest(actionType: string, tool: string, args: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([actionType, tool, args]))
    .digest('hex');
}

/** An empty queue; pass it to `createProxy` as the approver and to `startAdminServer`. */
export function createApprovalQueue(options: ApprovalQueueOptions = {}): ApprovalQueue {
  const clock = options.clock ?? Date.now;
  const ids = options.ids ?? randomUUID;
  const redact = options.redact ?? ((value: unknown) => value);
  const held = new Map<string, Held>();
  const changed = () => {
    try {
      options.onChange?.();
    } catch {
      // An observer's failure changes nothing here.
    }
  };

  return {
    request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer> {
      return new Promise((resolve, reject) => {
        if (signal.aborted) {
          reject(new Error('the call was withdrawn before it was queued'));
          return;
        }
        // The request's own id: a webhook told of this call (and answering 202) can answer it
        // here later under the id it was sent.
        const id = request.id !== '' && !held.has(request.id) ? request.id : ids();
        const since = clock();
        const view = {
          id,
          digest: approvalDigest(request.actionType, request.resource, request.arguments),
          action_type: request.actionType,
          tool: request.resource,
          arguments: redact(request.arguments, { approverView: true }),
          agent_id: request.agentId,
          server: request.server,
          rule_id: request.decision.ruleId,
          reason: request.decision.reason ?? '',
          requested_at: new Date(request.requestedAt).toISOString(),
        };
        const settle = (answer: ApprovalAnswer) => {
          signal.removeEventListener('abort', withdraw);
          resolve(answer);
        };
        // Withdrawn (cancelled by the client, timed out, proxy stopping): gone from the queue,
        // so no later answer can reach it.
        const withdraw = () => {
          if (held.delete(id)) changed();
          reject(new Error('the call was withdrawn'));
        };
        signal.addEventListener('abort', withdraw, { once: true });
        held.set(id, { view, since, settle });
        changed();
      });
    },
    list() {
      const now = clock();
      return [...held.values()]
        .sort((a, b) => a.since - b.since)
        .map(({ view, since }) => ({ ...view, age_ms: Math.max(0, now - since) }));
    },
    decide(id, answer, digest) {
      const entry = held.get(id);
      if (entry === undefined) return { ok: false, reason: 'not_found' };
      if (digest !== undefined && digest !== entry.view.digest) {
        return { ok: false, reason: 'digest_mismatch' };
      }
      held.delete(id);
      changed();
      entry.settle({
        approved: answer.approved,
        approver: answer.approver,
        channel: answer.channel,
        ...(answer.reason === undefined || answer.reason === '' ? {} : { reason: answer.reason }),
      });
      return { ok: true };
    },
  };
}
