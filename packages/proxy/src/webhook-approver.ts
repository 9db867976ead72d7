/**
 * The webhook approver: the Rust Kvlar's synchronous protocol. Each held call is POSTed to a URL
 * as JSON; a 2xx answer `{"decision":"approved"}` approves it, `{"decision":"denied","reason":…}`
 * denies it; anything else (an error, another status, another body, no answer in time) is a deny.
 * A `202 Accepted` is the asynchronous mode: the answer comes later through the admin endpoint's
 * approvals API, under the `request_id` the webhook was sent.
 * With a shared secret, every request is signed so the receiver can tell it came from Kvlar.
 */
import { createHmac } from 'node:crypto';
import type { ApprovalAnswer, ApprovalRequest, Approver } from './approver.js';
import { decodeMessage } from './framing.js';
import { isJsonObject } from './messages.js';

/** Options of `createWebhookApprover`. */
export interface WebhookApproverOptions {
  /** Where each held call is POSTed (http or https). */
  readonly url: string;
  /**
   * Signs each request: `X-Kvlar-Timestamp: <unix seconds>` and
   * `X-Kvlar-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
   */
  readonly secret?: string;
  /** Default: the global fetch. */
  readonly fetch?: typeof fetch;
  /** Milliseconds since the epoch, for `requested_at` and the signature. Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * Applied to the arguments before they leave for the webhook, as the approvals page applies it:
   * the audit redactor's `value`, typically, passed `{ approverView: true }` (a value under a
   * secret-looking name is hidden only when it cannot hold a command; secrets found by their
   * shape always are). It must keep an object an object. Default: the arguments as they are.
   */
  readonly redact?: (value: unknown, options: { readonly approverView: true }) => unknown;
}

const VIEW = { approverView: true } as const;

/** A decision is a few bytes: an answer longer than this is not read on, and denies. */
const MAX_WEBHOOK_ANSWER_BYTES = 64 * 1024;

/** The answer's body, up to `max` bytes; rejects (and stops the download) past that. */
async function boundedBody(response: Response, max: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  if (reader === undefined) return Buffer.alloc(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new Error(`the approval webhook answered more than ${max} bytes`);
    }
    chunks.push(value);
  }
}

/** What the Rust Kvlar POSTed, field for field. */
export interface WebhookRequestBody {
  readonly request_id: string;
  readonly tool_name: string;
  readonly tool_arguments: Readonly<Record<string, unknown>>;
  readonly rule_id: string;
  readonly reason: string;
  readonly agent_id: string;
  /** RFC 3339. */
  readonly requested_at: string;
  /** Kvlar's additions. */
  readonly action_type: string;
  readonly server: string;
}

/** The `X-Kvlar-Signature` value for a body: for receivers that check it, and for tests. */
export function signWebhookBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * An approver that POSTs each held call to a webhook: a 2xx `{"decision":"approved"}` approves
 * it, a `202` leaves the answer to the admin approvals API, anything else denies it.
 */
export function createWebhookApprover(options: WebhookApproverOptions): Approver {
  const url = new URL(options.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`the approval webhook must be an http(s) URL, not ${url.protocol}`);
  }
  const fetchFn = options.fetch ?? fetch;
  const clock = options.clock ?? Date.now;
  const redact = options.redact;
  const approver = url.host;

  return {
    async request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer> {
      const body = JSON.stringify(bodyOf(request));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'kvlar-proxy',
      };
      if (options.secret !== undefined) {
        const timestamp = String(Math.floor(clock() / 1000));
        headers['x-kvlar-timestamp'] = timestamp;
        headers['x-kvlar-signature'] = signWebhookBody(options.secret, timestamp, body);
      }
      const response = await fetchFn(url, {
        method: 'POST',
        headers,
        body,
        signal,
        redirect: 'error',
      });
      const bytes = await boundedBody(response, MAX_WEBHOOK_ANSWER_BYTES);
      if (response.status === 202) {
        // Asynchronous mode: the decision will come later through the admin endpoint's approvals
        // API (POST /approvals/<request_id>/approve|deny). Wait for it, or for the timeout.
        return new Promise<never>((_, reject) => {
          const withdrawn = () => reject(new Error('the call was withdrawn'));
          if (signal.aborted) withdrawn();
          else signal.addEventListener('abort', withdrawn, { once: true });
        });
      }
      if (response.status < 200 || response.status > 299) {
        throw new Error(`the approval webhook answered HTTP ${response.status}`);
      }
      // Read as Kvlar reads every message: strict UTF-8, bounded nesting, and no key twice in an
      // object (`JSON.parse` would keep the last `decision` where another reader keeps the first).
      const decoded = decodeMessage(bytes, { trackDuplicateKeys: true });
      if (!decoded.ok) {
        throw new Error('the approval webhook answered something that is not JSON');
      }
      const [repeated] = decoded.duplicateKeys;
      if (repeated !== undefined) {
        throw new Error(
          `the approval webhook answered ${JSON.stringify(repeated.key)} twice in one object`,
        );
      }
      const answer = decoded.value;
      const decision = isJsonObject(answer) ? answer.decision : undefined;
      if (decision === 'approved') return { approved: true, approver, channel: 'webhook' };
      if (decision === 'denied') {
        const reason =
          isJsonObject(answer) && typeof answer.reason === 'string' ? answer.reason : undefined;
        return {
          approved: false,
          approver,
          channel: 'webhook',
          ...(reason === undefined || reason === '' ? {} : { reason }),
        };
      }
      throw new Error(`the approval webhook answered no decision ("approved" or "denied")`);
    },
  };

  function bodyOf(request: ApprovalRequest): WebhookRequestBody {
    const shown = redact === undefined ? request.arguments : redact(request.arguments, VIEW);
    // A redactor that turned the arguments into something else would leave the receiver nothing
    // to decide on; refusing here denies the call (fail closed) rather than send it raw.
    if (!isJsonObject(shown))
      throw new Error('the redactor did not return the arguments as an object');
    return {
      request_id: request.id,
      tool_name: request.resource,
      tool_arguments: shown,
      rule_id: request.decision.ruleId,
      reason: request.decision.reason ?? '',
      agent_id: request.agentId,
      requested_at: new Date(request.requestedAt).toISOString(),
      action_type: request.actionType,
      server: request.server,
    };
  }
}
