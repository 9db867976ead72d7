/**
 * A second baseline: the least a proxy that reads what it forwards does. `node parse-relay.mjs
 * COMMAND [ARGS...]` spawns COMMAND; each line from stdin is parsed, logged as one timestamped
 * line on stderr, re-serialised and written to the child; each line from the child is parsed and
 * re-serialised back. No policy, no routing by id, no checks, no limits: not a proxy anyone
 * should run, but what kvlar's cost is fairly compared with, beside the byte relay's.
 */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  process.stderr.write('usage: node parse-relay.mjs COMMAND [ARGS...]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });

/** Calls `onLine` with each complete line read from `stream`, without its newline. */
function lines(stream, onLine) {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    pending += chunk;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      if (line !== '') onLine(line);
    }
  });
}

lines(process.stdin, (line) => {
  const message = JSON.parse(line);
  const name = message.params?.name ?? '';
  process.stderr.write(`${new Date().toISOString()} ${message.method ?? 'answer'} ${name}\n`);
  child.stdin.write(`${JSON.stringify(message)}\n`);
});
lines(child.stdout, (line) => {
  process.stdout.write(`${JSON.stringify(JSON.parse(line))}\n`);
});

child.stdin.on('error', () => {});
process.stdout.on('error', () => child.kill('SIGTERM'));
process.stdin.on('end', () => {
  child.stdin.end();
  setTimeout(() => child.kill('SIGTERM'), 2000).unref();
});
child.on('error', (error) => {
  process.stderr.write(`parse-relay: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on('close', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
  process.stdin.destroy();
});
