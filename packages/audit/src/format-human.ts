import type { AuditEvent, AuditOutcome } from './event.js';

const LABELS: Readonly<Record<AuditOutcome, { readonly text: string; readonly color: string }>> = {
  allowed: { text: 'ALLOW   ', color: '32' },
  denied: { text: 'DENY    ', color: '31' },
  pending_approval: { text: 'APPROVAL', color: '33' },
};

// Tool names, reasons and errors come from clients and servers: a newline would forge a second
// line, an escape sequence would rewrite the terminal, a bidi override would reorder what is read.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

export function safeText(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line (no newline) for a person watching decisions go by. */
export function formatHuman(event: AuditEvent, color: boolean): string {
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const label = LABELS[event.outcome];
  const parts = [
    paint('2', event.timestamp),
    paint(label.color, label.text),
    safeText(`${event.server}/${event.resource}`),
    `agent=${safeText(event.agent_id)}`,
    `rule=${safeText(event.matched_rule)}`,
  ];
  if (event.reason !== undefined) parts.push(`— ${safeText(event.reason)}`);
  const { approval, upstream } = event;
  if (approval !== undefined) {
    parts.push(
      `[approval ${approval.decision} by ${safeText(approval.approver)} via ${safeText(approval.channel)}, ${approval.latency_ms}ms]`,
    );
  }
  if (upstream !== undefined) {
    const result = upstream.ok ? 'ok' : `error: ${safeText(upstream.error ?? 'unknown')}`;
    parts.push(`[upstream ${result}, ${upstream.duration_ms}ms]`);
  }
  return parts.join('  ');
}
