/**
 * The policy format as a zod schema: the single definition that validates policies and
 * generates `policy.schema.json`. Objects are strict (an unknown key is an error, never ignored).
 * Checks zod cannot express (regexes compile, globs parse, ids are unique) live in compile.ts.
 */
import { z } from 'zod';

/** Operators of the Rust Kvlar v0.3, v0.4 and Kvlar's own extensions, by kind of value. */
export const OPERATORS = {
  anyValue: ['equals', 'not_equals', 'eq', 'neq'],
  string: ['contains', 'starts_with', 'ends_with'],
  regex: ['matches'],
  number: ['greater_than', 'less_than', 'gt', 'lt', 'gte', 'lte'],
  presence: ['exists', 'not_exists'],
  list: ['one_of', 'in', 'not_in'],
  domain: ['in_domain', 'not_in_domain'],
  network: ['in_network', 'not_in_network'],
  path: ['path_under', 'path_not_under'],
  glob: ['glob'],
  shell: ['shell'],
} as const;

/** A condition operator's name (docs/policy-format.md, "Conditions"). */
export type Operator = (typeof OPERATORS)[keyof typeof OPERATORS][number];
/** Every condition operator, aliases included. */
export const ALL_OPERATORS: readonly Operator[] = Object.values(OPERATORS).flat();

const nonEmpty = z.string().min(1, 'must not be empty');
const patternList = z
  .array(nonEmpty)
  .min(1, 'must list at least one pattern (omit the key to match everything)');
const stringOrList = z.union([nonEmpty, z.array(nonEmpty).min(1, 'must not be empty')]);
const jsonValue = z.json();

const field = nonEmpty.describe(
  'The argument to test; a dotted name (`user.role`) walks nested objects, or reads a key literally named `user.role`; arguments with both, holding different values, are denied (`_ambiguous_field`).',
);
const ignoreCase = z
  .boolean()
  .optional()
  .describe('Compare text case-insensitively (string operators only).');

function comparison<const T extends readonly [Operator, ...Operator[]], V extends z.ZodType>(
  operators: T,
  value: V,
  description: string,
) {
  return z
    .strictObject({ field, operator: z.enum(operators), value, ignore_case: ignoreCase })
    .describe(description);
}

/** Numbers and hosts have no case: these operators take no `ignore_case`. */
function caseless<const T extends readonly [Operator, ...Operator[]], V extends z.ZodType>(
  operators: T,
  value: V,
  description: string,
) {
  return z.strictObject({ field, operator: z.enum(operators), value }).describe(description);
}

/** The `shell` operator's value: what one command of the command line must have. */
const ShellMatchObject = z.strictObject({
  program: patternList
    .optional()
    .describe('Name patterns over the base name of the program, compared ignoring case.'),
  flags: z
    .array(z.array(nonEmpty).min(1, 'must list at least one flag'))
    .min(1, 'must list at least one group of flags')
    .optional()
    .describe(
      'Groups of alternatives (`[[-r, --recursive], [-f, --force]]`); each group must be present.',
    ),
  args: z
    .union([z.literal('none'), patternList])
    .optional()
    .describe('Regexes, one of which some non-flag argument matches; `none`: no such argument.'),
  subcommand: patternList
    .optional()
    .describe('Name patterns over the first non-flag argument (`push` in `git push`).'),
  piped: z
    .union([z.boolean(), z.literal('command')])
    .optional()
    .describe(
      'Its input comes from a pipe, `<(…)`, a here-document or a here-string; `command`: from a pipe or `<(…)` only.',
    ),
  writes_to: patternList
    .optional()
    .describe(
      'Path globs over the files it writes: its output redirections, the output files of wrappers, and the host directories it mounts writable into a container (a glob matches when some path under the directory does).',
    ),
  unknown_program: z
    .boolean()
    .optional()
    .describe('Its program is only known at run time (`$X`, `$(…)`, `eval "$x"`).'),
  host_access: z
    .boolean()
    .optional()
    .describe(
      "It starts a container with the power of the host: privileged, added capabilities or host devices, the host's processes, confinement off, the host's root or a socket mounted; or `kubectl debug node/…`.",
    ),
});
// At least one key: checked when compiling (shell-match.ts), where an unknown key is not also
// reported as a missing one; the JSON Schema says it with minProperties.
const ShellMatchSchema = ShellMatchObject.meta({ minProperties: 1 });

const Comparison = z.discriminatedUnion('operator', [
  comparison(
    OPERATORS.anyValue,
    jsonValue,
    'Type-strict JSON equality; `not_equals`/`neq` need the field present.',
  ),
  comparison(OPERATORS.string, z.string(), 'Substring tests on a string field.'),
  comparison(
    OPERATORS.regex,
    z.string(),
    'An unanchored regex search (Rust/RE2 syntax) on a string field.',
  ),
  caseless(OPERATORS.number, z.number(), 'Numeric comparison; the field must be a number.'),
  z
    .strictObject({
      field,
      operator: z.enum(OPERATORS.presence),
      value: jsonValue.optional().describe('Ignored.'),
    })
    .describe('Whether the field is present.'),
  comparison(
    OPERATORS.list,
    z.array(jsonValue),
    'Membership by JSON equality; `not_in` also holds when the field is absent.',
  ),
  caseless(
    OPERATORS.domain,
    stringOrList,
    'The host of a URL is the domain or one of its subdomains.',
  ),
  caseless(
    OPERATORS.network,
    stringOrList,
    'The host of a URL is an IP address inside one of the networks (CIDR); names are not resolved.',
  ),
  comparison(
    OPERATORS.path,
    stringOrList,
    'The normalised path is (not) the directory or inside it.',
  ),
  comparison(OPERATORS.glob, stringOrList, 'A micromatch-style path glob over the whole value.'),
  comparison(
    OPERATORS.shell,
    ShellMatchSchema,
    'The command line runs a command that matches (a line that cannot be read holds).',
  ),
]);

export interface ComparisonDocument {
  readonly field: string;
  readonly operator: Operator;
  readonly value?: unknown;
  readonly ignore_case?: boolean | undefined;
}
/** A condition as written in a policy: a comparison, or `any` / `all` / `not` of others. */
export type ConditionDocument =
  | ComparisonDocument
  | { readonly any: readonly ConditionDocument[] }
  | { readonly all: readonly ConditionDocument[] }
  | { readonly not: ConditionDocument };

export const ConditionSchema: z.ZodType<ConditionDocument> = z.lazy(() =>
  z.union([
    Comparison,
    z
      .strictObject({ any: z.array(ConditionSchema).min(1, 'must list at least one condition') })
      .describe('Holds when at least one of the conditions holds.'),
    z
      .strictObject({ all: z.array(ConditionSchema).min(1, 'must list at least one condition') })
      .describe('Holds when every condition holds.'),
    z.strictObject({ not: ConditionSchema }).describe('Holds when the condition does not.'),
  ]),
) as z.ZodType<ConditionDocument>;

export const MatchOnSchema = z
  .strictObject({
    action_types: patternList
      .optional()
      .describe('Name patterns over the action type (e.g. `tool_call`).'),
    resources: patternList.optional().describe('Name patterns over the tool name.'),
    agent_ids: patternList.optional().describe('Name patterns over the agent id.'),
    servers: patternList.optional().describe("Name patterns over the MCP server's name."),
    parameters: z
      .record(z.string(), z.string())
      .optional()
      .describe('Argument name to regex (unanchored search); the argument must be present.'),
    conditions: z.array(ConditionSchema).min(1, 'must list at least one condition').optional(),
  })
  .describe('What the rule matches; every key present must hold. `{}` matches everything.');

export const EffectSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('allow'), reason: z.string().optional() }),
  z.strictObject({ type: z.literal('deny'), reason: z.string() }),
  z.strictObject({ type: z.literal('require_approval'), reason: z.string() }),
]);

export const RuleSchema = z.strictObject({
  id: nonEmpty.describe('Unique within the policy; reported in every decision.'),
  description: z.string().optional(),
  match_on: MatchOnSchema,
  effect: EffectSchema,
});

export const PolicySchema = z
  .strictObject({
    name: nonEmpty,
    description: z.string().optional(),
    version: z.string().describe('A string: quote numbers, e.g. "1.0".'),
    extends: z
      .union([nonEmpty, z.array(nonEmpty)])
      .optional()
      .describe("Built-in template names or file paths whose rules follow this policy's own."),
    default_outcome: z
      .enum(['allow', 'deny'])
      .optional()
      .describe(
        "`allow`: an action none of this policy's rules match is allowed (`_default_allow`).",
      ),
    rules: z.array(RuleSchema).describe('Evaluated in order; the first match decides.'),
  })
  .describe('A Kvlar policy (compatible with the Rust Kvlar v0.3 and v0.4 formats).');

/** A policy as written (validated, not compiled). */
export type PolicyDocument = z.infer<typeof PolicySchema>;
/** One rule as written. */
export type RuleDocument = z.infer<typeof RuleSchema>;
/** A rule's `match_on` as written. */
export type MatchOnDocument = z.infer<typeof MatchOnSchema>;
/** A rule's `effect` as written. */
export type EffectDocument = z.infer<typeof EffectSchema>;

/** The keys each kind of object allows, for did-you-mean suggestions. */
export const KNOWN_KEYS = {
  policy: Object.keys(PolicySchema.shape),
  rule: Object.keys(RuleSchema.shape),
  match_on: Object.keys(MatchOnSchema.shape),
  effect: ['type', 'reason'],
  condition: ['field', 'operator', 'value', 'ignore_case', 'any', 'all', 'not'],
  shell: Object.keys(ShellMatchObject.shape),
} as const;

/** The JSON Schema (draft 2020-12) of the policy format, generated from the zod schema. */
export function policyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PolicySchema, { target: 'draft-2020-12', io: 'input' }) as Record<
    string,
    unknown
  >;
}
