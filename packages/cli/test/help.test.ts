import { describe, expect, it } from 'vitest';
import { kvlar, tempDir } from './helpers.js';

async function help(args: readonly string[]): Promise<string> {
  const result = await kvlar([...args, '--help'], { cwd: await tempDir() });
  expect(result.code).toBe(0);
  expect(result.stderr).toBe('');
  // Piped output gets no colours.
  expect(result.stdout).not.toContain('\u001b[');
  return result.stdout;
}

describe('--help', () => {
  it('lists the commands', async () => {
    expect(await help([])).toMatchInlineSnapshot(`
      "kvlar — Policy engine and MCP proxy for AI agent tool calls

      Usage: kvlar <command> [options]

      Commands:
        init         Write a starter policy and its tests from a built-in template
        validate     Check a policy file (with what it extends), or every policy in a directory
        evaluate     Show the decision a policy makes for one action
        serve        Answer evaluation requests, one JSON line each, on stdin/stdout (for SDKs)
        inspect      List a policy's rules, with what it extends, in evaluation order
        proxy        Run an MCP server behind Kvlar: every tool call is checked, audited, then forwarded
        wrap         Put kvlar in front of every MCP server in a client's config
        unwrap       Take kvlar out of a client's config: restore each server's own command
        approvals    List the tool calls that running proxies hold for approval
        approve      Approve a held tool call: the proxy forwards it
        deny         Deny a held tool call: the agent is told why
        test         Run policy test files (*.test.yaml)
        lint         Find rules that can never decide, allows that hide denies, unknown tools and untested policies
        schema       Print the JSON Schema of the policy format
        audit        Verify, summarise, export and follow audit logs
        version      Print the version of kvlar

      Options:
        -V, --version    Print the version and exit
        -h, --help       Show this help

      Run 'kvlar <command> --help' for the options of a command.
      "
    `);
  });

  it('describes kvlar validate', async () => {
    expect(await help(['validate'])).toMatchInlineSnapshot(`
      "kvlar validate — Check a policy file (with what it extends), or every policy in a directory

      Usage: kvlar validate --policy <file|dir> [options]

      Options:
        -p, --policy <file|dir>    A policy file, or a directory of *.yaml / *.yml policies (required)
            --json                 Print the result as JSON on stdout
        -h, --help                 Show this help
      "
    `);
  });

  it('describes kvlar proxy', async () => {
    expect(await help(['proxy'])).toMatchInlineSnapshot(`
      "kvlar proxy — Run an MCP server behind Kvlar: every tool call is checked, audited, then forwarded

      Usage: kvlar proxy --stdio --policy <file> [options] -- <command> [args…]
             kvlar proxy --listen <host:port> --policy <file> [options] (--upstream <host:port> | -- <command> [args…])

      Options:
            --stdio                              Speak JSON-RPC on stdin/stdout; run the server given after --
        -p, --policy <file>                      A policy file (repeat for several, evaluated in order)
            --listen <host:port>                 Accept MCP clients over TCP here
            --upstream <host:port>               With --listen: the MCP server to connect each client to (else the command after --)
        -c, --config <file>                      A Rust Kvlar proxy config (YAML)
            --agent-id <id>                      Pin the agent id (default: the client's clientInfo.name)
            --server-name <name>                 The server's name, for match_on.servers and the audit
            --mode <enforce|audit>               audit: decide and record but forward everything (shadow mode); default enforce
            --strict                             Decide every kind of request (resources, prompts, sampling…), not only those the policy names
            --no-filter-tools                    Keep tools the policy always denies in tools/list answers
            --audit <file>                       Append the hash-chained audit log (JSONL) here
            --audit-max-bytes <bytes>            Rotate the audit log before a record would take it past this size
            --audit-rotate-daily                 Rotate the audit log at the first record of each UTC day
            --audit-sync <background|always>     background: each record in the kernel before its call goes on, flushed to disk behind (default); always: on disk first
            --audit-torn-line <refuse|rotate>    A log ending in a torn line (a crash mid-write): refuse to start (default) or move it aside
            --redact-key <name>                  Also redact arguments named like this in the audit (repeatable; adds to the defaults)
            --redact-value <kind=regex>          Also redact text matching this regex (policy regex syntax; a (?P<secret>…) group limits it) as [REDACTED:kind] (repeatable)
            --audit-results                      Also record what became of each forwarded call (ok or its error, how long), linked to its decision
            --audit-failure <deny|allow>         When the audit log cannot be written: deny the call (default) or allow it
            --max-message-bytes <bytes>          Refuse longer JSON-RPC messages (default 33554432)
            --watch                              Reload policies (and what they extend) when they change; a bad edit keeps the last good one
            --approval-webhook <url>             POST calls that need approval to this URL (Rust protocol; signed with $KVLAR_WEBHOOK_SECRET when set)
            --no-elicitation                     Do not ask the person at the client (elicitation/create) to approve held calls
            --approval-timeout <secs>            How long an approval may take before it is a deny (default 120)
            --admin <host:port>                  Serve GET /health and GET /metrics here (loopback only)
            --health <host:port>                 The Rust name of --admin
            --admin-token-file <file>            A bearer token (16+ characters) for the admin endpoint; required to bind it off loopback
        -h, --help                               Show this help
      "
    `);
  });

  it('describes kvlar approvals', async () => {
    expect(await help(['approvals'])).toMatchInlineSnapshot(`
      "kvlar approvals — List the tool calls that running proxies hold for approval

      Usage: kvlar approvals [options]

      Options:
            --admin <url>      Ask only the proxy whose admin endpoint is here (with its token) instead of all
            --token <token>    The bearer token of the proxy given with --admin; other users can read it in ps: prefer $KVLAR_ADMIN_TOKEN
            --json             Print the held calls as JSON on stdout
        -h, --help             Show this help
      "
    `);
  });

  it('describes kvlar approve', async () => {
    expect(await help(['approve'])).toMatchInlineSnapshot(`
      "kvlar approve — Approve a held tool call: the proxy forwards it

      Usage: kvlar approve <id> [options]

      Arguments:
        <id>    The held call's id, or a unique prefix of it (at least 8 characters)

      Options:
            --reason <text>    Why; the agent and the audit see it
            --json             Print the answered call as JSON on stdout
            --admin <url>      Ask only the proxy whose admin endpoint is here (with its token) instead of all
            --token <token>    The bearer token of the proxy given with --admin; other users can read it in ps: prefer $KVLAR_ADMIN_TOKEN
        -h, --help             Show this help
      "
    `);
  });

  it('describes kvlar deny', async () => {
    expect(await help(['deny'])).toMatchInlineSnapshot(`
      "kvlar deny — Deny a held tool call: the agent is told why

      Usage: kvlar deny <id> [options]

      Arguments:
        <id>    The held call's id, or a unique prefix of it (at least 8 characters)

      Options:
            --reason <text>    Why; the agent and the audit see it
            --json             Print the answered call as JSON on stdout
            --admin <url>      Ask only the proxy whose admin endpoint is here (with its token) instead of all
            --token <token>    The bearer token of the proxy given with --admin; other users can read it in ps: prefer $KVLAR_ADMIN_TOKEN
        -h, --help             Show this help
      "
    `);
  });

  it('describes kvlar evaluate', async () => {
    expect(await help(['evaluate'])).toMatchInlineSnapshot(`
      "kvlar evaluate — Show the decision a policy makes for one action

      Usage: kvlar evaluate --policy <file> --resource <tool> [options]

      Options:
        -p, --policy <file>         The policy file (required)
            --resource <tool>       The tool name (resource) being called (required)
            --action-type <type>    The action type (default: tool_call)
            --agent-id <id>         The agent making the call (default: cli-test)
            --args <json>           The tool's arguments, as a JSON object
            --server <name>         The MCP server's name
            --json                  Print the decision as JSON on stdout
            --explain               Also show each rule considered and its checks
        -h, --help                  Show this help
      "
    `);
  });

  it('describes kvlar inspect', async () => {
    expect(await help(['inspect'])).toMatchInlineSnapshot(`
      "kvlar inspect — List a policy's rules, with what it extends, in evaluation order

      Usage: kvlar inspect --policy <file> [options]

      Options:
        -p, --policy <file>    The policy file (required)
            --json             Print the policy as JSON on stdout
        -h, --help             Show this help
      "
    `);
  });

  it('describes kvlar test', async () => {
    expect(await help(['test'])).toMatchInlineSnapshot(`
      "kvlar test — Run policy test files (*.test.yaml)

      Usage: kvlar test <file|dir…> [options]

      Arguments:
        <file|dir…>    Test files, or directories to search (recursively) for *.test.yaml files

      Options:
        -f, --file <file|dir>           A test file or directory, like an argument (repeatable)
        -p, --policy <file>             The policy to test, instead of each test file's \`policy:\`
            --json                      Print the results as JSON on stdout
        -v, --verbose                   Also list the tests that pass
            --coverage                  Also list, per policy, the rules that decided no test
            --coverage-min <percent>    Fail unless each policy has this % of its rules covered (implies --coverage)
        -h, --help                      Show this help
      "
    `);
  });

  it('describes kvlar init', async () => {
    expect(await help(['init'])).toMatchInlineSnapshot(`
      "kvlar init — Write a starter policy and its tests from a built-in template

      Usage: kvlar init [options]

      Options:
        -d, --dir <dir>          Where to write policy.yaml and policy.test.yaml (default: ~/.kvlar)
            --template <name>    The built-in template to start from (default: default; see --list)
            --list               List the templates with what each one is for
            --force              Overwrite policy.yaml and policy.test.yaml
            --json               Print the result as JSON on stdout
        -h, --help               Show this help
      "
    `);
  });

  it('describes kvlar wrap', async () => {
    expect(await help(['wrap'])).toMatchInlineSnapshot(`
      "kvlar wrap — Put kvlar in front of every MCP server in a client's config

      Usage: kvlar wrap [options]

      Options:
            --client <name>           claude-desktop, cursor, vscode, windsurf, claude-code (default: the one whose config is found)
            --config <file>           This config file (its client is told by its name or content, or by --client)
            --scope <user|project>    user: the client's own config (default); project: the one in this directory
            --all                     Every client whose config is found
            --only <name>             Only this server (repeatable)
            --skip <name>             Not this server (repeatable)
            --dry-run                 Print what would change as a unified diff; write nothing
            --json                    Print a report as JSON
        -p, --policy <file>           The policy the servers run under (default: ~/.kvlar/policy.yaml)
        -h, --help                    Show this help
      "
    `);
  });

  it('describes kvlar unwrap', async () => {
    expect(await help(['unwrap'])).toMatchInlineSnapshot(`
      "kvlar unwrap — Take kvlar out of a client's config: restore each server's own command

      Usage: kvlar unwrap [options]

      Options:
            --client <name>           claude-desktop, cursor, vscode, windsurf, claude-code (default: the one whose config is found)
            --config <file>           This config file (its client is told by its name or content, or by --client)
            --scope <user|project>    user: the client's own config (default); project: the one in this directory
            --all                     Every client whose config is found
            --only <name>             Only this server (repeatable)
            --skip <name>             Not this server (repeatable)
            --dry-run                 Print what would change as a unified diff; write nothing
            --json                    Print a report as JSON
        -h, --help                    Show this help
      "
    `);
  });

  it('describes kvlar lint', async () => {
    expect(await help(['lint'])).toMatchInlineSnapshot(`
      "kvlar lint — Find rules that can never decide, allows that hide denies, unknown tools and untested policies

      Usage: kvlar lint --policy <file|dir> [options] [-- <command> [args…]]

      Options:
        -p, --policy <file|dir>    A policy file, or a directory of *.yaml / *.yml policies (required)
            --tools <file>         The server's tools, to flag rules naming none: JSON names, tools, or a tools/list result
            --timeout <seconds>    With -- <command>: how long the server may take to list its tools (default 30)
            --strict               Exit 1 on warnings too
            --json                 Print the findings as JSON on stdout
        -h, --help                 Show this help
      "
    `);
  });

  it('describes kvlar serve', async () => {
    expect(await help(['serve'])).toMatchInlineSnapshot(`
      "kvlar serve — Answer evaluation requests, one JSON line each, on stdin/stdout (for SDKs)

      Usage: kvlar serve --policy <file> [options]

      Options:
            --stdio                     Read requests on stdin, write answers on stdout (the only transport)
        -p, --policy <file>             A policy file (repeat for several, evaluated in order) (required)
            --watch                     Reload policies (and what they extend) when they change; a bad edit keeps the last good one
            --max-line-bytes <bytes>    Answer longer request lines with a too_large error (default 1048576)
        -h, --help                      Show this help
      "
    `);
  });

  it('describes kvlar schema', async () => {
    expect(await help(['schema'])).toMatchInlineSnapshot(`
      "kvlar schema — Print the JSON Schema of the policy format

      Usage: kvlar schema [options]

      Options:
        -o, --output <file>    Write the schema to this file instead of stdout
        -h, --help             Show this help
      "
    `);
  });

  it('describes kvlar version', async () => {
    expect(await help(['version'])).toMatchInlineSnapshot(`
      "kvlar version — Print the version of kvlar

      Usage: kvlar version [options]

      Options:
            --json    Print {"version": …} as JSON
        -h, --help    Show this help
      "
    `);
  });

  it('describes kvlar audit', async () => {
    expect(await help(['audit'])).toMatchInlineSnapshot(`
      "kvlar audit — Verify, summarise, export and follow audit logs

      Usage: kvlar audit <command> [options]

      Commands:
        verify    Check the hash chain of an audit log; name the first broken link
        stats     Summarise an audit log: outcomes, period, top resources and agents
        export    Export audit events as JSON lines, CSV or CEF, filtered
        tail      Print the last audit events; with --follow, keep printing new ones

      Options:
        -h, --help    Show this help

      Run 'kvlar audit <command> --help' for the options of a command.
      "
    `);
  });

  it('describes kvlar audit verify', async () => {
    expect(await help(['audit', 'verify'])).toMatchInlineSnapshot(`
      "kvlar audit verify — Check the hash chain of an audit log; name the first broken link

      Usage: kvlar audit verify <file|dir> [options]

      Arguments:
        <file|dir>    An audit log (its rotated files are found beside it), or a directory of logs

      Options:
            --json    Print the result as JSON on stdout
        -h, --help    Show this help
      "
    `);
  });

  it('describes kvlar audit stats', async () => {
    expect(await help(['audit', 'stats'])).toMatchInlineSnapshot(`
      "kvlar audit stats — Summarise an audit log: outcomes, period, top resources and agents

      Usage: kvlar audit stats --file <file|dir> [options]

      Options:
        -f, --file <file|dir>      An audit log (with its rotated files), or a directory of logs (required)
            --json                 Print the statistics as JSON on stdout
            --since <time>         Only events at or after this RFC 3339 time
            --until <time>         Only events at or before this RFC 3339 time
            --outcome <outcome>    Only this outcome: allowed, denied or pending_approval
            --resource <text>      Only resources containing this text
            --agent <text>         Only agent ids containing this text
            --server <text>        Only servers containing this text
            --kind <kind>          Only this kind of record: decisions, or results (the server's answers)
        -h, --help                 Show this help
      "
    `);
  });

  it('describes kvlar audit export', async () => {
    expect(await help(['audit', 'export'])).toMatchInlineSnapshot(`
      "kvlar audit export — Export audit events as JSON lines, CSV or CEF, filtered

      Usage: kvlar audit export --file <file|dir> [options]

      Options:
        -f, --file <file|dir>           An audit log (with its rotated files), or a directory of logs (required)
            --format <jsonl|csv|cef>    Output format (default: jsonl)
        -o, --output <file>             Write to this file (atomically) instead of stdout
            --since <time>              Only events at or after this RFC 3339 time
            --until <time>              Only events at or before this RFC 3339 time
            --outcome <outcome>         Only this outcome: allowed, denied or pending_approval
            --resource <text>           Only resources containing this text
            --agent <text>              Only agent ids containing this text
            --server <text>             Only servers containing this text
            --kind <kind>               Only this kind of record: decisions, or results (the server's answers)
        -h, --help                      Show this help
      "
    `);
  });

  it('describes kvlar audit tail', async () => {
    expect(await help(['audit', 'tail'])).toMatchInlineSnapshot(`
      "kvlar audit tail — Print the last audit events; with --follow, keep printing new ones

      Usage: kvlar audit tail --file <file|dir> [options]

      Options:
        -f, --file <file|dir>      An audit log (with its rotated files), or a directory of logs (required)
        -F, --follow               Keep running and print events as they are appended, across rotations
        -n, --lines <n>            How many of the last events to print first (default: 10)
            --json                 Print the events as the stored JSON lines
            --since <time>         Only events at or after this RFC 3339 time
            --until <time>         Only events at or before this RFC 3339 time
            --outcome <outcome>    Only this outcome: allowed, denied or pending_approval
            --resource <text>      Only resources containing this text
            --agent <text>         Only agent ids containing this text
            --server <text>        Only servers containing this text
            --kind <kind>          Only this kind of record: decisions, or results (the server's answers)
        -h, --help                 Show this help
      "
    `);
  });

  it('answers -h like --help, even after other flags', async () => {
    const dir = await tempDir();
    const short = await kvlar(['evaluate', '-p', 'missing.yaml', '-h'], { cwd: dir });
    expect(short.code).toBe(0);
    expect(short.stdout).toBe(await help(['evaluate']));
  });
});
