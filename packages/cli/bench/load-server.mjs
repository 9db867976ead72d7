#!/usr/bin/env node
/**
 * The MCP server behind the load test and the soak (load-driver.mjs). No SDK, so it costs little
 * CPU and sees exactly what kvlar forwards. Newline-delimited JSON-RPC:
 *
 *   initialize, ping, tools/list (echo)
 *   tools/call  answers `{tool, arguments, via}` as JSON text, where `via` names this process and
 *               connection, so a client can tell which upstream answered it.
 *
 *   node load-server.mjs stdio DIR   one session on stdin/stdout
 *   node load-server.mjs tcp DIR     a session per connection on 127.0.0.1, port 0; prints
 *                                    `{"port":N}` on stdout once it listens
 *
 * It keeps, per session, which calls reached it (`arguments.client` → the `arguments.n` it saw,
 * and the names of tools other than `echo`), and writes that to DIR/server-PID-CONNECTION.json
 * when the session ends: the driver compares it with the calls the policy allowed.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const [mode, dir] = process.argv.slice(2);
if ((mode !== 'stdio' && mode !== 'tcp') || dir === undefined) {
  process.stderr.write('usage: load-server.mjs stdio|tcp DIR\n');
  process.exit(2);
}

const TOOLS = [
  { name: 'echo', description: 'Returns its arguments.', inputSchema: { type: 'object' } },
];
// Kept short: the driver reports at most a few names that should never have arrived.
const MAX_UNEXPECTED = 20;

/** One client session: answers lines, remembers what reached it, writes that down once. */
function createSession(connection, write) {
  const via = `${process.pid}:${connection}`;
  /** `arguments.client` → the `arguments.n` of every `echo` call, in arrival order. */
  const received = new Map();
  const unexpected = [];
  let calls = 0;
  let pending = '';
  let saved = false;

  function answer(message) {
    const { id, method } = message;
    const params =
      typeof message.params === 'object' && message.params !== null ? message.params : {};
    switch (method) {
      case 'initialize':
        return {
          jsonrpc: '2.0',
          id,
          result: {
            protocolVersion: params.protocolVersion ?? '2025-06-18',
            capabilities: { tools: {} },
            serverInfo: { name: 'kvlar-load-server', version: '1.0.0' },
          },
        };
      case 'ping':
        return { jsonrpc: '2.0', id, result: {} };
      case 'tools/list':
        return { jsonrpc: '2.0', id, result: { tools: TOOLS } };
      case 'tools/call': {
        calls += 1;
        const args = params.arguments ?? {};
        if (params.name === 'echo') {
          const key = String(args.client);
          let list = received.get(key);
          if (list === undefined) {
            list = [];
            received.set(key, list);
          }
          list.push(args.n);
        } else if (unexpected.length < MAX_UNEXPECTED) {
          unexpected.push(String(params.name));
        }
        const text = JSON.stringify({ tool: params.name, arguments: args, via });
        return { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } };
      }
      default:
        return { jsonrpc: '2.0', id, error: { code: -32601, message: `no method ${method}` } };
    }
  }

  return {
    /** Answers every complete line of a chunk with one write. */
    data(chunk) {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      let out = '';
      for (const part of parts) {
        if (part === '') continue;
        const message = JSON.parse(part);
        if (typeof message.method === 'string' && 'id' in message) {
          out += `${JSON.stringify(answer(message))}\n`;
        }
      }
      if (out !== '') write(out);
    },
    save() {
      if (saved) return;
      saved = true;
      const summary = { via, calls, received: Object.fromEntries(received), unexpected };
      writeFileSync(join(dir, `server-${process.pid}-${connection}.json`), JSON.stringify(summary));
    },
  };
}

if (mode === 'stdio') {
  const session = createSession(0, (text) => process.stdout.write(text));
  const stop = () => {
    session.save();
    process.exit(0);
  };
  process.stdin.setEncoding('utf8').on('data', (chunk) => session.data(chunk));
  process.stdin.on('end', stop);
  process.on('SIGTERM', stop);
} else {
  let connections = 0;
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const session = createSession(connections++, (text) => socket.write(text));
    socket.setEncoding('utf8').on('data', (chunk) => session.data(chunk));
    socket.on('error', () => {});
    socket.on('end', () => {
      session.save();
      socket.end();
    });
    socket.on('close', () => session.save());
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
