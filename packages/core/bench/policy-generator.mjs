/**
 * Deterministic policies for the engine benchmark, written as YAML text the way a user would,
 * plus the actions that hit a rule early, late or not at all.
 *
 * Every rule names its own tools (tool i is `VERB_NOUN_i`), so a tool is matched by its own rule
 * and by the guard rails only: rules with `resources: ['*']` and argument checks, the
 * "never rm -rf anywhere" kind every real policy has. Guard rails are spread evenly, one per
 * GUARD_RAIL_EVERY rules; on the warm path they are the rules an action walks past.
 */

/** mulberry32: a tiny seeded PRNG, so the same seed always gives the same policies. */
export function createRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const GUARD_RAIL_EVERY = 30;

/** The share of each kind among the rules that are neither targets nor guard rails. */
const KIND_WEIGHTS = [
  ['exact', 0.4],
  ['glob', 0.25],
  ['parameters', 0.2],
  ['conditions', 0.15],
];

const VERBS = ['read', 'write', 'list', 'delete', 'create', 'update', 'search', 'run', 'send'];
const NOUNS = ['file', 'issue', 'repo', 'message', 'table', 'bucket', 'secret', 'branch', 'page'];

/** Argument regexes as policies write them; none matches the benchmark's actions. */
const PARAMETER_REGEXES = [
  ['command', String.raw`(?i)rm\s+-rf`],
  ['command', String.raw`(?i)\bsudo\b`],
  ['command', String.raw`(?i)curl\s+[^|]*\|\s*(ba)?sh`],
  ['path', '^/etc/'],
  ['path', String.raw`(?i)\.(pem|key|env)$`],
  ['path', '^/(proc|sys)/'],
  ['sql', String.raw`(?i)\bdrop\s+(table|database)\b`],
  ['sql', String.raw`(?i)\bdelete\s+from\b`],
  ['url', String.raw`^https?://(localhost|127\.0\.0\.1|169\.254\.)`],
];

/** Conditions with the operators the issue names; none holds for the benchmark's actions. */
const CONDITIONS = [
  { field: 'env', operator: 'eq', value: 'production' },
  { field: 'branch', operator: 'starts_with', value: 'release/' },
  { field: 'env', operator: 'in', value: ['production', 'prod'] },
  { field: 'amount', operator: 'greater_than', value: 10000 },
  { field: 'path', operator: 'path_under', value: '/etc' },
  { field: 'command', operator: 'matches', value: String.raw`(?i)\bsudo\b` },
  { field: 'user.role', operator: 'eq', value: 'admin' },
];

export const ABSENT_TOOL = 'unlisted_tool';
export const AGENT_ID = 'agent-7';
export const SERVER = 'workspace';

export function toolName(index) {
  const verb = VERBS[index % VERBS.length];
  const noun = NOUNS[Math.floor(index / VERBS.length) % NOUNS.length];
  return `${verb}_${noun}_${index}`;
}

/**
 * A policy of `size` rules. Returns its YAML, a count of each kind of rule, and the scenarios:
 * for each position, the tool to call, the decision expected, and `nameMatches`: how many rules
 * up to the deciding one admit the tool's name (the guard rails before it, plus the target), so
 * whose arguments any engine has to check.
 */
export function generatePolicy(size, seed) {
  const random = createRandom(seed ^ Math.imul(size, 0x9e3779b1));
  const pick = (list) => list[Math.floor(random() * list.length)];
  const chance = (p) => random() < p;

  const early = Math.floor(size / 50);
  const late = size - 1;
  const guardRails = new Set();
  const guardCount = Math.max(1, Math.round(size / GUARD_RAIL_EVERY));
  for (let g = 0; g < guardCount; g++) {
    const at = Math.floor(((g + 0.5) * size) / guardCount);
    if (at !== early && at !== late) guardRails.add(at);
  }

  const kinds = { exact: 0, glob: 0, parameters: 0, conditions: 0, 'guard rail': 0, target: 0 };
  const ordinary = shuffledKinds(size - 2 - guardRails.size, random);
  const rules = [];
  for (let i = 0; i < size; i++) {
    if (i === early || i === late) {
      rules.push(targetRule(i, i === early ? 'target-early' : 'target-late'));
      kinds.target++;
    } else if (guardRails.has(i)) {
      rules.push(guardRail(i, pick, chance));
      kinds['guard rail']++;
    } else {
      const kind = ordinary.pop();
      rules.push(ordinaryRule(kind, i, pick, chance));
      kinds[kind]++;
    }
  }

  const guardRailsBefore = (index) => [...guardRails].filter((at) => at < index).length;
  const scenarios = [
    {
      position: 'early',
      tool: toolName(early),
      expected: { type: 'allow', ruleId: 'target-early' },
      nameMatches: guardRailsBefore(early) + 1,
    },
    {
      position: 'late',
      tool: toolName(late),
      expected: { type: 'require_approval', ruleId: 'target-late' },
      nameMatches: guardRailsBefore(late) + 1,
    },
    {
      position: 'absent',
      tool: ABSENT_TOOL,
      expected: { type: 'deny', ruleId: '_default_deny' },
      nameMatches: guardRails.size,
    },
  ];
  return { yaml: toYaml(`bench-${size}`, rules), kinds, scenarios };
}

/** Exactly KIND_WEIGHTS' shares of `count` kinds (rounded), in a seeded random order. */
function shuffledKinds(count, random) {
  const kinds = [];
  for (const [kind, weight] of KIND_WEIGHTS) {
    const quota =
      kind === KIND_WEIGHTS.at(-1)[0] ? count - kinds.length : Math.round(count * weight);
    for (let n = 0; n < quota; n++) kinds.push(kind);
  }
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  return kinds;
}

function effect(pick) {
  return pick([
    { type: 'allow' },
    { type: 'allow' },
    { type: 'allow' },
    { type: 'deny', reason: 'not allowed by the bench policy' },
    { type: 'require_approval', reason: 'a human must approve this' },
  ]);
}

/** Names the tool must pass besides `resources`, on some rules: action type and agent. */
function extraNames(chance) {
  return {
    ...(chance(0.2) ? { action_types: ['tool_call'] } : {}),
    ...(chance(0.1) ? { agent_ids: ['agent-*'] } : {}),
  };
}

/** A glob of each shape the matcher has a path for: prefix, suffix, `?` and a class. */
function globFor(index, pick) {
  const verb = VERBS[index % VERBS.length];
  const noun = NOUNS[Math.floor(index / VERBS.length) % NOUNS.length];
  return pick([
    `${verb}${index}_*`,
    `${verb}${index}_*`,
    `*_${noun}${index}`,
    `*_${noun}${index}`,
    `db${index}_?`,
    `[rw]${index}_${noun}`,
  ]);
}

function parameterChecks(pick, chance) {
  const checks = {};
  for (let n = chance(0.3) ? 2 : 1; Object.keys(checks).length < n; ) {
    const [key, regex] = pick(PARAMETER_REGEXES);
    checks[key] = regex;
  }
  return checks;
}

function conditionChecks(pick, chance) {
  const first = pick(CONDITIONS);
  return chance(0.3) ? [first, pick(CONDITIONS)] : [first];
}

function ordinaryRule(kind, index, pick, chance) {
  const id = `r${index}-${kind}`;
  const names = extraNames(chance);
  const own = chance(0.5) ? [toolName(index)] : [globFor(index, pick)];
  switch (kind) {
    case 'exact': {
      const resources = chance(0.25)
        ? [toolName(index), `${toolName(index)}_v2`]
        : [toolName(index)];
      return { id, match_on: { ...names, resources }, effect: effect(pick) };
    }
    case 'glob':
      return {
        id,
        match_on: { ...names, resources: [globFor(index, pick)] },
        effect: effect(pick),
      };
    case 'parameters':
      return {
        id,
        match_on: { ...names, resources: own, parameters: parameterChecks(pick, chance) },
        effect: { type: 'deny', reason: 'dangerous arguments' },
      };
    default:
      return {
        id,
        match_on: { ...names, resources: own, conditions: conditionChecks(pick, chance) },
        effect: { type: 'require_approval', reason: 'sensitive target' },
      };
  }
}

function guardRail(index, pick, chance) {
  const match_on = chance(0.5)
    ? { resources: ['*'], parameters: parameterChecks(pick, chance) }
    : { resources: ['*'], conditions: conditionChecks(pick, chance) };
  return { id: `r${index}-guard-rail`, match_on, effect: { type: 'deny', reason: 'guard rail' } };
}

/** Both targets have the same shape (exact name, a regex, two conditions): only position differs. */
function targetRule(index, id) {
  return {
    id,
    match_on: {
      resources: [toolName(index)],
      parameters: { path: '^/home/' },
      conditions: [
        { field: 'env', operator: 'in', value: ['staging', 'dev'] },
        { field: 'amount', operator: 'less_than', value: 10000 },
      ],
    },
    effect:
      id === 'target-early'
        ? { type: 'allow' }
        : { type: 'require_approval', reason: 'late target needs approval' },
  };
}

/**
 * Sixteen calls of `tool` with varied, harmless arguments: they satisfy the targets and no
 * guard rail, so every one must get the scenario's decision.
 */
export function actionsFor(tool) {
  const commands = ['git status --short', 'ls -la src', 'npm test -- --grep case', 'cat README.md'];
  return Array.from({ length: 16 }, (_, k) => ({
    actionType: 'tool_call',
    resource: tool,
    agentId: AGENT_ID,
    server: SERVER,
    parameters: {
      path: `/home/dev/project/src/module${k}.ts`,
      command: commands[k % commands.length],
      sql: `select id, name from users where id = ${k}`,
      url: `https://api.example.com/v1/items/${k}`,
      amount: 10 + k * 37,
      env: k % 2 === 0 ? 'staging' : 'dev',
      branch: `feature/change-${k}`,
      user: { role: 'developer', team: 'core' },
    },
  }));
}

// YAML emission: block style for structure, single-quoted scalars (regexes need no escaping).

function scalar(value) {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
}

function flow(value) {
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{ ${Object.entries(value)
      .map(([key, item]) => `${key}: ${flow(item)}`)
      .join(', ')} }`;
  }
  return scalar(value);
}

function toYaml(name, rules) {
  const lines = [
    `name: ${name}`,
    'description: generated by packages/core/bench',
    'version: "1.0"',
  ];
  lines.push('rules:');
  for (const rule of rules) {
    lines.push(`  - id: ${rule.id}`, '    match_on:');
    for (const [key, value] of Object.entries(rule.match_on)) {
      if (key === 'parameters') {
        lines.push('      parameters:');
        for (const [arg, regex] of Object.entries(value))
          lines.push(`        ${arg}: ${scalar(regex)}`);
      } else if (key === 'conditions') {
        lines.push('      conditions:');
        for (const condition of value) lines.push(`        - ${flow(condition)}`);
      } else {
        lines.push(`      ${key}: ${flow(value)}`);
      }
    }
    lines.push(`    effect: ${flow(rule.effect)}`);
  }
  return `${lines.join('\n')}\n`;
}
