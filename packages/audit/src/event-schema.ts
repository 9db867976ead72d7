/**
 * The audit record as a zod schema: it generates `audit-event.schema.json` (committed; a test
 * fails when they drift) and validates records read back. Objects are strict: the schema
 * describes exactly what this version writes. Chain verification does not use it, so a later
 * version's extra fields still verify (they are covered by the hash all the same).
 */
import { z } from 'zod';
import type { AuditEvent } from './event.js';

const text = z.string().min(1);
const sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .describe('Lower-case hex SHA-256.');
const milliseconds = z.number().nonnegative();

export const AuditEventSchema = z
  .strictObject({
    id: text.describe('Unique id of the record.'),
    timestamp: text.describe('When the decision was taken: RFC 3339, UTC.'),
    action_type: text.describe('`tool_call` for tools/call; other kinds of MCP message by name.'),
    resource: z.string().describe('The tool name (or resource URI, prompt name) acted on.'),
    agent_id: z.string().describe('Who acted.'),
    outcome: z
      .enum(['allowed', 'denied', 'pending_approval'])
      .describe('The decision, in the Rust Kvlar’s words.'),
    matched_rule: text.describe('The deciding rule id, or `_default_deny` / `_default_allow`.'),
    reason: z.string().optional().describe('Why, for deny and approval rules.'),
    parameters: z.json().optional().describe('The call’s arguments, after redaction.'),
    session: z.string().describe('The client session (one MCP connection).'),
    server: z.string().describe('The MCP server’s name.'),
    shadow: z
      .literal(true)
      .optional()
      .describe('Shadow mode: decided and recorded, not enforced (a denied call was forwarded).'),
    policy: z
      .strictObject({
        name: z.string(),
        version: z.string(),
        hash: z.string().describe('Hex SHA-256 of the loaded policy texts.'),
      })
      .describe('The policy set in force.'),
    approval: z
      .strictObject({
        approver: z.string(),
        channel: z.string(),
        decision: z.enum(['approved', 'denied', 'timeout', 'error']),
        latency_ms: milliseconds,
      })
      .optional()
      .describe('How a require_approval decision was answered.'),
    call_id: text
      .optional()
      .describe(
        'On a follow-up record (an approval answer, an upstream result): the id of the call’s first record.',
      ),
    upstream: z
      .strictObject({
        ok: z.boolean(),
        error: z.string().optional(),
        duration_ms: milliseconds,
      })
      .optional()
      .describe('What the MCP server answered to a forwarded call.'),
    prev_hash: sha256.describe(
      'The previous record’s hash; 64 zeros for the first record of a chain.',
    ),
    hash: sha256.describe('sha256(prev_hash + canonical(record without hash)), hex.'),
  })
  .describe('One Kvlar audit record (one line of an audit JSONL file).');

// Compile-time tie between the documented interface and the schema: every AuditEvent the sinks
// produce must be accepted by the schema (`parameters` is any JSON on both sides).
type Accepts<T, _U extends T> = true;
export type _EventMatchesSchema = Accepts<
  Omit<z.input<typeof AuditEventSchema>, 'parameters'>,
  Omit<AuditEvent, 'parameters'>
>;

export function auditEventJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(AuditEventSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}
