/**
 * The baseline any proxy is compared with: `node relay.mjs COMMAND [ARGS...]` spawns COMMAND and
 * copies bytes both ways without looking at them (stdin → child, child stdout → stdout, stderr
 * passed through). It exits when either side ends, with the child's exit code.
 */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  process.stderr.write('usage: node relay.mjs COMMAND [ARGS...]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });

// pipe() keeps back-pressure in both directions, as a real proxy must.
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);

// A peer that went away is an ending, not a crash.
child.stdin.on('error', () => {});
process.stdout.on('error', () => child.kill('SIGTERM'));

// The client hung up: the child sees end of input; if it does not leave, make it.
process.stdin.on('end', () => {
  setTimeout(() => child.kill('SIGTERM'), 2000).unref();
});
child.on('error', (error) => {
  process.stderr.write(`relay: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on('close', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
  process.stdin.destroy();
});
