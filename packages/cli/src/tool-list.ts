/**
 * The names of an MCP server's tools, for `kvlar lint`: from a JSON file, or asked of the server
 * itself (spawned over stdio, `tools/list` page by page, then closed).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CliError } from './errors.js';
import { readTextFile } from './read-text.js';
import { VERSION } from './version.js';

/**
 * A tools file holds a list of names (`["read_file"]`), a list of tool objects
 * (`[{"name": "read_file", …}]`), a `tools/list` result (`{"tools": […]}`) or a whole JSON-RPC
 * response to one (`{"result": {"tools": […]}}`).
 */
export function readToolsFile(absolute: string, shown: string): string[] {
  const fail = (message: string): never => {
    throw new CliError('invalid_input', `--tools ${shown}: ${message}`);
  };
  const read = readTextFile(absolute);
  if (!read.ok) return fail(read.message);
  let value: unknown;
  try {
    value = JSON.parse(read.text);
  } catch (error) {
    return fail(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = isObject(value) && isObject(value.result) ? value.result : value;
  const list = isObject(result) ? result.tools : result;
  if (!Array.isArray(list)) {
    return fail(
      'expected a list of tool names, a list of tools, or a tools/list result {"tools": […]}',
    );
  }
  return list.map((entry, index) => {
    const name = isObject(entry) ? entry.name : entry;
    if (typeof name !== 'string') {
      return fail(`entry ${index} is not a tool name or a tool with a string "name"`);
    }
    return name;
  });
}

/** At most this many `tools/list` pages: a server whose cursor never ends must not hang lint. */
const MAX_PAGES = 1000;

/**
 * Starts `command` as an MCP server over stdio, lists its tools (every page) and stops it. A
 * server that cannot be started, fails, or takes longer than `timeoutMs` in all is an error.
 */
export async function listServerTools(
  command: readonly string[],
  options: { readonly cwd: string; readonly env: Readonly<Record<string, string | undefined>> },
  timeoutMs: number,
): Promise<string[]> {
  const [program, ...args] = command;
  if (program === undefined || program === '') {
    throw new CliError('usage', 'no server command after --', { command: 'kvlar lint' });
  }
  const shown = command.join(' ');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = value;
  const transport = new StdioClientTransport({
    command: program,
    args,
    env,
    cwd: options.cwd,
    stderr: 'pipe',
  });
  // The server's last words, for the error message when it fails.
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  const client = new Client({ name: 'kvlar-lint', version: VERSION });

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const seconds = timeoutMs / 1000;
      reject(new Error(`no answer within ${seconds} second${seconds === 1 ? '' : 's'}`));
    }, timeoutMs);
  });
  const list = async (): Promise<string[]> => {
    await client.connect(transport, { timeout: timeoutMs });
    const names: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await client.listTools(cursor === undefined ? {} : { cursor }, {
        timeout: timeoutMs,
      });
      names.push(...result.tools.map((tool) => tool.name));
      cursor = result.nextCursor;
      if (cursor === undefined) return names;
    }
    throw new Error(`tools/list still had more after ${MAX_PAGES} pages`);
  };
  try {
    return await Promise.race([list(), deadline]);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const said =
      stderr.trim() === '' ? '' : `\n  the server's stderr ended with: ${lastLines(stderr)}`;
    throw new CliError('invalid_input', `cannot list the tools of \`${shown}\`: ${why}${said}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => undefined);
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join('\n  ');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
