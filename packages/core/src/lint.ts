/**
 * `lintPolicy`: what a valid policy probably did not mean. Pure, like the rest of core: the
 * caller supplies the facts that need I/O (the server's tools, whether a test file covers it).
 *
 * Claims are sound, never guesses: `shadowed-rule` is reported only when the earlier rules
 * provably decide every action the rule matches, and `allow-hides-deny` only with a concrete
 * example the engine's own matchers agree with. Where the analysis cannot tell, it says nothing.
 *
 * A rule matches an action when its name patterns admit the four names (action type, tool, agent,
 * server) and its argument checks (`parameters`, `conditions`) hold. Names are decided exactly
 * (lint-names.ts); argument checks only syntactically: an earlier rule's checks count as implied
 * when each is written identically in the later rule.
 */
import { type CompiledRule, namesMatch } from './compile.js';
import { compactJson } from './json.js';
import {
  type Automaton,
  EVERY_NAME,
  findName,
  isLiteral,
  isSubset,
  literalEndsClash,
  type NameSet,
  nameIn,
  nameSetOf,
  type Search,
  samplesOf,
} from './lint-names.js';
import { type NamePattern, nameMatches } from './name-pattern.js';
import { compiledRulesOf, locateIn, type Policy } from './policy.js';
import type { ResolvedPolicy } from './resolve.js';
import { suggest } from './suggest.js';
import type { Action } from './types.js';
import { withFile } from './yaml-source.js';

/** What a lint finding is about; `kvlar lint` and docs/cli.md describe each one. */
export type LintCode =
  | 'shadowed-rule'
  | 'allow-hides-deny'
  | 'unknown-tool'
  | 'untested-policy'
  | 'default-allow'
  | 'empty-reason';

/** One thing `lintPolicy` found, with where it points. */
export interface LintFinding {
  readonly code: LintCode;
  /** `error`: the policy cannot do what it says (a rule that never decides). `warning`: it may. */
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** The rule the finding is about, when it is about one. */
  readonly ruleId?: string;
  /** The earlier rule that shadows or hides `ruleId`. */
  readonly otherRuleId?: string;
  /** For `allow-hides-deny`: names of an action the earlier rule takes from the later one. */
  readonly example?: Omit<Action, 'parameters'>;
  /** Where the finding points: the linted policy's file when it can (see `lintPolicy`). */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly path: readonly (string | number)[];
}

/** Facts `lintPolicy` cannot find out itself (they need I/O). */
export interface LintOptions {
  /**
   * The names of the tools the MCP server offers (its `tools/list`). Given, the policy's own rules
   * that name none of them get `unknown-tool`.
   */
  readonly tools?: readonly string[];
  /** `false` adds `untested-policy`: no test file names this policy. Undefined: not checked. */
  readonly tested?: boolean;
}

/**
 * Lints a resolved policy (with everything it extends, in evaluation order).
 *
 * Findings are about the policy itself: a problem between its rules, between its rules and those
 * it extends, or between two bases it puts together. A problem inside one base is that base's
 * (lint it on its own) and is not repeated. A finding points at the rule it is about when that
 * rule is in the policy's own file, else at the policy's rule that causes it, else at `extends`.
 */
export function lintPolicy(policy: ResolvedPolicy, options: LintOptions = {}): LintFinding[] {
  const facts = factsOf(policy);
  const root = policy.policies[0];
  const findings: LintFinding[] = [];
  const shadowed = new Set<number>();

  for (const later of facts) {
    const covering = shadowingRules(facts, later);
    if (covering === undefined) continue;
    shadowed.add(later.order);
    if (!concernsRoot(later, covering)) continue;
    findings.push(shadowFinding(later, covering, root));
  }

  for (const later of facts) {
    if (later.rule.effect.type !== 'deny' || shadowed.has(later.order)) continue;
    for (const earlier of facts.slice(0, later.order)) {
      if (earlier.rule.effect.type === 'deny' || !checksImplied(earlier, later)) continue;
      if (!concernsRoot(later, [earlier])) continue;
      const hidden = hiddenExample(facts, earlier, later, options.tools ?? []);
      if (hidden !== undefined) findings.push(hidesFinding(later, earlier, hidden, root));
    }
  }

  const own = facts.filter((fact) => fact.instance === 0);
  if (options.tools !== undefined) {
    for (const fact of own) findings.push(...unknownTools(fact, options.tools));
  }
  for (const fact of own) {
    const { type, reason } = fact.rule.effect;
    if (type !== 'allow' && reason !== undefined && reason.trim() === '') {
      findings.push({
        code: 'empty-reason',
        severity: 'warning',
        message: `${type} rule "${fact.rule.id}" has an empty reason: say what was refused and why, for the agent to relay`,
        ruleId: fact.rule.id,
        ...at(fact.owner, ['rules', fact.index, 'effect', 'reason']),
      });
    }
  }
  if (root !== undefined && policy.defaultOutcome === 'allow' && policy.rules.length > 0) {
    findings.push({
      code: 'default-allow',
      severity: 'warning',
      message:
        'default_outcome: allow lets through every action no rule matches (fail-open): allow what may pass with rules and leave the rest denied',
      ...at(root, ['default_outcome']),
    });
  }
  if (root !== undefined && options.tested === false) {
    findings.push({
      code: 'untested-policy',
      severity: 'warning',
      message: `no test file names this policy: add a NAME.test.yaml beside it with \`policy: ${baseName(root.file ?? 'policy.yaml')}\``,
      ...at(root, []),
    });
  }
  // In the order of the file, the policy's own first; sort is stable.
  const rank = (finding: LintFinding) => (finding.file === root?.file ? 0 : 1);
  return findings.sort(
    (a, b) =>
      rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
}

/** `policy.yaml:7:5: error: shadowed-rule: rule "b" can never decide: …` */
export function formatLintFinding(finding: LintFinding): string {
  const where = [finding.file ?? '<input>', finding.line, finding.column]
    .filter((part) => part !== undefined)
    .join(':');
  return `${where}: ${finding.severity}: ${finding.code}: ${finding.message}`;
}

/** One rule, with the sets its name patterns match and the keys of its argument checks. */
interface RuleFacts {
  readonly rule: CompiledRule;
  /** Its position in evaluation order. */
  readonly order: number;
  /** Which of `policy.policies` it was written in (0: the policy itself), and where. */
  readonly instance: number;
  readonly owner: Policy | undefined;
  readonly index: number;
  readonly actionTypes: NameSet;
  readonly resources: NameSet;
  readonly agentIds: NameSet;
  /** `undefined`: any server, and actions naming none. */
  readonly servers: NameSet | undefined;
  readonly checks: ReadonlySet<string>;
}

function factsOf(policy: ResolvedPolicy): RuleFacts[] {
  const owners = new Map<CompiledRule, { instance: number; owner: Policy; index: number }>();
  policy.policies.forEach((owner, instance) => {
    compiledRulesOf(owner)?.forEach((rule, index) => {
      if (!owners.has(rule)) owners.set(rule, { instance, owner, index });
    });
  });
  return policy.rules.map((rule, order) => {
    const owner = owners.get(rule);
    return {
      rule,
      order,
      instance: owner?.instance ?? -1,
      owner: owner?.owner,
      index: owner?.index ?? order,
      actionTypes: nameSetOf(rule.actionTypes),
      resources: nameSetOf(rule.resources),
      agentIds: nameSetOf(rule.agentIds),
      servers: rule.servers === undefined ? undefined : nameSetOf(rule.servers),
      checks: checkKeys(rule),
    };
  });
}

/** The same keys the engine shares check results by: equal keys, equal checks. */
function checkKeys(rule: CompiledRule): Set<string> {
  const keys = new Set<string>();
  for (const [key, regex] of rule.parameters) keys.add(`p${JSON.stringify(key)}${regex.source}`);
  for (const condition of rule.document.match_on.conditions ?? []) {
    keys.add(`c${compactJson(condition)}`);
  }
  return keys;
}

/** Every argument check of `earlier` is one of `later`'s: whenever `later`'s hold, so do they. */
function checksImplied(earlier: RuleFacts, later: RuleFacts): boolean {
  for (const key of earlier.checks) if (!later.checks.has(key)) return false;
  return true;
}

/** Every (action type, agent, server) that `later` admits, `earlier` admits too. */
function coversOtherNames(earlier: RuleFacts, later: RuleFacts): boolean {
  if (earlier.servers !== undefined) {
    // An action naming no server matches a rule without `servers` only.
    if (later.servers === undefined || !isSubset(later.servers, earlier.servers)) return false;
  }
  return (
    isSubset(later.actionTypes, earlier.actionTypes) && isSubset(later.agentIds, earlier.agentIds)
  );
}

/**
 * The earlier rules that together decide every action `later` matches, or `undefined` when that
 * cannot be shown. Sound: each rule taken covers `later`'s other names and has its argument checks
 * implied by `later`'s, and `later`'s tool names all lie in the union of their tool patterns. So
 * any action `later` matches is matched by one of them, which comes first and decides it (or an
 * even earlier rule does). One rule that covers it alone is named rather than a union.
 */
function shadowingRules(facts: readonly RuleFacts[], later: RuleFacts): RuleFacts[] | undefined {
  const candidates = facts
    .slice(0, later.order)
    .filter((earlier) => checksImplied(earlier, later) && coversOtherNames(earlier, later));
  if (candidates.length === 0) return undefined;
  const alone = candidates.find((earlier) => toolsCovered(later.resources, earlier.resources));
  if (alone !== undefined) return [alone];
  if (candidates.length === 1) return undefined;
  const union = candidates.flatMap((earlier) => earlier.resources);
  if (!toolsCovered(later.resources, union)) return undefined;
  // Name the rules that take some of its tools.
  const taking = candidates.filter((earlier) =>
    later.resources.some((inner) => earlier.resources.some((outer) => overlaps(inner, outer))),
  );
  return taking.length > 0 ? taking : candidates;
}

/** Whether every name in `inner` is in `outer`, trying cheap answers before the full search. */
function toolsCovered(inner: NameSet, outer: NameSet): boolean {
  if (outer.includes(EVERY_NAME[0]!)) return true;
  return inner.every((pattern) => patternCovered(pattern, outer));
}

function patternCovered(pattern: Automaton, outer: NameSet): boolean {
  // A name of the pattern outside them all is the usual answer, and a cheap one.
  for (const sample of samplesOf(pattern)) if (!nameIn(outer, sample)) return false;
  if (isLiteral(pattern)) return true;
  // One pattern covering it is the usual success; it must at least take the samples.
  const samples = samplesOf(pattern);
  const takesSamples = (candidate: Automaton) => samples.every((name) => nameIn([candidate], name));
  if (outer.some((candidate) => takesSamples(candidate) && covers(candidate, pattern))) return true;
  const overlapping = outer.filter((candidate) => overlaps(pattern, candidate));
  if (overlapping.length === 0) return false;
  return findName([[pattern]], overlapping, 100_000).kind === 'none';
}

/** What is known of a pair of patterns; `common` is a shortest name of both, `null` for none. */
interface Pair {
  covers?: boolean;
  overlaps?: boolean;
  common?: string | null;
}

const pairs = new WeakMap<Automaton, Map<Automaton, Pair>>();

function pairOf(a: Automaton, b: Automaton): Pair {
  const row = pairs.get(a) ?? new Map<Automaton, Pair>();
  pairs.set(a, row);
  const pair = row.get(b) ?? {};
  row.set(b, pair);
  return pair;
}

/** Every name `inner` matches, `outer` matches. */
function covers(outer: Automaton, inner: Automaton): boolean {
  if (outer === inner) return true;
  const pair = pairOf(outer, inner);
  pair.covers ??= isSubset([inner], [outer]);
  return pair.covers;
}

/** Some name both match (true when that cannot be ruled out). */
function overlaps(a: Automaton, b: Automaton): boolean {
  const pair = pairOf(a, b);
  if (pair.overlaps === undefined) {
    if (isLiteral(a)) pair.overlaps = nameIn([b], a.source);
    else if (isLiteral(b)) pair.overlaps = nameIn([a], b.source);
    else pair.overlaps = !literalEndsClash(a, b) && findName([[a], [b]]).kind !== 'none';
  }
  return pair.overlaps;
}

/** A shortest name both match, when one is found. */
function commonOf(a: Automaton, b: Automaton): string | undefined {
  if (!overlaps(a, b)) return undefined;
  if (isLiteral(a)) return a.source;
  if (isLiteral(b)) return b.source;
  const pair = pairOf(a, b);
  if (pair.common === undefined) {
    const search = findName([[a], [b]]);
    pair.common = search.kind === 'found' ? search.name : null;
  }
  return pair.common ?? undefined;
}

/** An action `later` never decides because `earlier` matches every call of it first. */
interface Hidden {
  readonly example: Omit<Action, 'parameters'>;
  /** Rules before `earlier` that may decide some of those calls (their checks differ). */
  readonly before: readonly RuleFacts[];
}

/**
 * Names of an action that `earlier` takes from `later` (a deny), or `undefined` when none is
 * found. Sound, and checked with the engine's matchers: both rules admit the names, and
 * `earlier`'s argument checks are implied by `later`'s, so every call with these names that
 * `later` matches is matched by `earlier` first. Preferably no rule before `earlier` admits the
 * names at all, so `earlier` decides every such call; failing that, none whose checks `later`
 * implies (which would take them all), and the ones that may take some are named.
 */
function hiddenExample(
  facts: readonly RuleFacts[],
  earlier: RuleFacts,
  later: RuleFacts,
  tools: readonly string[],
): Hidden | undefined {
  const actionType = commonName(earlier.actionTypes, later.actionTypes, 'tool_call');
  const agentId = commonName(earlier.agentIds, later.agentIds, 'test-agent');
  if (actionType === undefined || agentId === undefined) return undefined;
  let server: string | undefined;
  if (earlier.servers !== undefined || later.servers !== undefined) {
    server = commonName(earlier.servers ?? EVERY_NAME, later.servers ?? EVERY_NAME, 'server');
    if (server === undefined) return undefined;
  }
  const before = facts
    .slice(0, earlier.order)
    .filter((fact) =>
      namesMatch({ ...fact.rule, resources: undefined }, actionType, '', agentId, server),
    );
  const deciding = before.filter((fact) => checksImplied(fact, later));
  for (const excluded of before.length === deciding.length ? [before] : [before, deciding]) {
    const resource = exampleTool(earlier, later, excluded, tools);
    if (resource === undefined) continue;
    const admits = (fact: RuleFacts) =>
      namesMatch(fact.rule, actionType, resource, agentId, server);
    if (!admits(earlier) || !admits(later) || excluded.some(admits)) continue;
    return {
      example: { actionType, resource, agentId, ...(server === undefined ? {} : { server }) },
      before: before.filter(admits),
    };
  }
  return undefined;
}

/** A name in both sets, `preferred` when it is; `undefined` when none is found. */
function commonName(a: NameSet, b: NameSet, preferred: string): string | undefined {
  if (nameIn(a, preferred) && nameIn(b, preferred)) return preferred;
  const search = findName([a, b]);
  return search.kind === 'found' ? search.name : undefined;
}

/**
 * A tool both rules name and none of `before` does: one of the server's tools, else their exact
 * names, else a shortest name of each overlapping pair of their patterns, else a search that
 * steers clear of `before`.
 */
function exampleTool(
  earlier: RuleFacts,
  later: RuleFacts,
  before: readonly RuleFacts[],
  tools: readonly string[],
): string | undefined {
  const excluded = before.flatMap((fact) => fact.resources);
  const fits = (name: string) =>
    nameIn(earlier.resources, name) && nameIn(later.resources, name) && !nameIn(excluded, name);
  const tool = tools.find(fits);
  if (tool !== undefined) return tool;
  for (const fact of [later, earlier]) {
    for (const pattern of fact.resources) {
      if (isLiteral(pattern) && fits(pattern.source)) return pattern.source;
    }
  }
  const overlapping: [Automaton, Automaton][] = [];
  for (const a of later.resources) {
    for (const b of earlier.resources) {
      const name = commonOf(a, b);
      if (name === undefined) continue;
      if (fits(name)) return name;
      overlapping.push([a, b]);
    }
  }
  for (const [a, b] of overlapping.slice(0, 4)) {
    // Only the earlier patterns that could take a name of both matter to the search.
    const relevant = excluded.filter((x) => overlaps(x, a) && overlaps(x, b));
    if (relevant.some((x) => covers(x, a) || covers(x, b))) continue;
    const search: Search = findName([[a], [b]], relevant, 20_000);
    if (search.kind === 'found' && fits(search.name)) return search.name;
  }
  return undefined;
}

/**
 * Whether the policy itself is part of the finding: a rule of its own is involved, or rules of
 * two different files it put together. Two rules of one base are that base's business.
 */
function concernsRoot(later: RuleFacts, earlier: readonly RuleFacts[]): boolean {
  if (later.instance <= 0) return true;
  return earlier.some((fact) => fact.instance <= 0 || fact.instance !== later.instance);
}

function shadowFinding(
  later: RuleFacts,
  covering: readonly RuleFacts[],
  root: Policy | undefined,
): LintFinding {
  const first = covering[0]!;
  const names = covering.slice(0, 3).map(describe);
  const more = covering.length > 3 ? ` and ${covering.length - 3} more` : '';
  const subject =
    covering.length === 1
      ? `${names[0]} comes first and matches every action it matches`
      : `${names.join(', ')}${more} come first and together match every action it matches`;
  return {
    code: 'shadowed-rule',
    severity: 'error',
    message: `${describe(later)} can never decide: ${subject}`,
    ruleId: later.rule.id,
    otherRuleId: first.rule.id,
    ...pointAt(later, covering, root),
  };
}

function hidesFinding(
  later: RuleFacts,
  earlier: RuleFacts,
  hidden: Hidden,
  root: Policy | undefined,
): LintFinding {
  const call = describeCall(hidden.example, earlier, later);
  const allows = earlier.rule.effect.type === 'allow';
  let what: string;
  if (hidden.before.length === 0) {
    what = `comes first and ${allows ? 'allows them' : 'asks for approval instead'}, e.g. for ${call}`;
  } else {
    const names = hidden.before.slice(0, 3).map(describe).join(', ');
    const more = hidden.before.length > 3 ? ` and ${hidden.before.length - 3} more` : '';
    what = `comes first and takes all of them that no earlier rule (${names}${more}) takes, e.g. for ${call}`;
  }
  return {
    code: 'allow-hides-deny',
    severity: 'warning',
    message: `${describe(later)} does not decide some actions it matches: ${describe(earlier)} ${what}`,
    ruleId: later.rule.id,
    otherRuleId: earlier.rule.id,
    example: hidden.example,
    ...pointAt(later, [earlier], root),
  };
}

/** `tool "x"`, with the other names when either rule restricts them. */
function describeCall(
  example: Omit<Action, 'parameters'>,
  earlier: RuleFacts,
  later: RuleFacts,
): string {
  const restricted = (key: 'actionTypes' | 'agentIds') =>
    earlier.rule[key] !== undefined || later.rule[key] !== undefined;
  const parts = [`tool ${JSON.stringify(example.resource)}`];
  if (restricted('actionTypes') && example.actionType !== 'tool_call') {
    parts.push(`as ${JSON.stringify(example.actionType)}`);
  }
  if (restricted('agentIds')) parts.push(`by agent ${JSON.stringify(example.agentId)}`);
  if (example.server !== undefined) parts.push(`on server ${JSON.stringify(example.server)}`);
  return parts.join(' ');
}

/** The finding's rule when it is in the policy's file, else the policy's own rule, else extends. */
function pointAt(
  later: RuleFacts,
  earlier: readonly RuleFacts[],
  root: Policy | undefined,
): Pick<LintFinding, 'file' | 'line' | 'column' | 'path'> {
  if (later.instance <= 0) return at(later.owner, ['rules', later.index]);
  const own = earlier.find((fact) => fact.instance === 0);
  if (own !== undefined) return at(own.owner, ['rules', own.index]);
  return at(root, root?.document.extends === undefined ? [] : ['extends']);
}

function at(
  policy: Policy | undefined,
  path: readonly (string | number)[],
): Pick<LintFinding, 'file' | 'line' | 'column' | 'path'> {
  if (policy === undefined) return { path };
  return { path, ...withFile(policy.file), ...locateIn(policy, path) };
}

/** `allow rule "a"`, with the file it is in when that is not the linted policy's own. */
function describe(fact: RuleFacts): string {
  const file = fact.instance !== 0 && fact.owner?.file !== undefined ? ` (${fact.owner.file})` : '';
  return `${fact.rule.effect.type} rule ${JSON.stringify(fact.rule.id)}${file}`;
}

/**
 * `unknown-tool`: a rule for tool calls whose tool patterns match none of the server's tools, or
 * an exact name that is not one of them but a slip away from one (a likely typo).
 */
function unknownTools(fact: RuleFacts, tools: readonly string[]): LintFinding[] {
  const { rule } = fact;
  if (rule.resources === undefined) return [];
  if (rule.actionTypes !== undefined && !rule.actionTypes.some((p) => p.test('tool_call'))) {
    return [];
  }
  const base = ['rules', fact.index, 'match_on', 'resources'] as const;
  const matches = (pattern: NamePattern) => tools.some((tool) => nameMatches(pattern, tool));
  if (!rule.resources.some(matches)) {
    const listed = rule.resources.slice(0, 5).map((pattern) => JSON.stringify(pattern.source));
    const more = rule.resources.length > 5 ? ` and ${rule.resources.length - 5} more` : '';
    const guess = rule.resources
      .filter((pattern) => pattern.exact)
      .map((pattern) => typoOf(pattern.source, tools))
      .find((found) => found !== undefined);
    const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
    return [
      {
        code: 'unknown-tool',
        severity: 'warning',
        message: `rule "${rule.id}" matches none of the server's ${tools.length} tools: ${listed.join(', ')}${more}${hint}`,
        ruleId: rule.id,
        ...at(fact.owner, base),
      },
    ];
  }
  const findings: LintFinding[] = [];
  rule.resources.forEach((pattern, position) => {
    if (!pattern.exact || matches(pattern)) return;
    const guess = typoOf(pattern.source, tools);
    if (guess === undefined) return;
    findings.push({
      code: 'unknown-tool',
      severity: 'warning',
      message: `rule "${rule.id}" names "${pattern.source}", which is not a tool of the server (did you mean "${guess}"?)`,
      ruleId: rule.id,
      ...at(fact.owner, [...base, position]),
    });
  });
  return findings;
}

/**
 * The tool `name` is probably a misspelling of: `suggest`'s guess, kept only when it is one slip
 * away (a letter wrong, missing, extra or swapped; two for long names) or differs only in case.
 * Rules list names of tools other servers have on purpose; those must not read as typos.
 */
function typoOf(name: string, tools: readonly string[]): string | undefined {
  const guess = suggest(name, tools);
  if (guess === undefined) return undefined;
  if (guess.toLowerCase() === name.toLowerCase()) return guess;
  return slips(name, guess, name.length >= 8 ? 2 : 1) ? guess : undefined;
}

/** Whether `a` becomes `b` in at most `limit` edits (optimal string alignment distance). */
function slips(a: string, b: string, limit: number): boolean {
  if (Math.abs(a.length - b.length) > limit) return false;
  const previous: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [];
    for (let j = 0; j <= b.length; j++) {
      if (i === 0 || j === 0) {
        row.push(i + j);
        continue;
      }
      let cost = Math.min(
        previous[i - 1]![j]! + 1,
        row[j - 1]! + 1,
        previous[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        cost = Math.min(cost, previous[i - 2]![j - 2]! + 1);
      }
      row.push(cost);
    }
    previous.push(row);
  }
  return previous[a.length]![b.length]! <= limit;
}

function baseName(file: string): string {
  return file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
}
