import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const mode = process.argv[2];
const server = ['node', '/work/main/packages/proxy/bench/server.mjs'];
const args =
  mode === 'relay'
    ? ['/work/main/packages/proxy/bench/relay.mjs', ...server]
    : [
        ...(process.argv[3] ? process.argv[3].split(' ') : []),
        '/work/main/packages/cli/dist/bin.js',
        'proxy',
        '--stdio',
        '--policy',
        '/work/main/packages/proxy/bench/allow-all.yaml',
        '--',
        ...server,
      ];
const t = new StdioClientTransport({ command: 'node', args, stderr: 'ignore' });
const c = new Client({ name: 'b', version: '1' });
await c.connect(t);
const t0 = performance.now();
for (let i = 0; i < 20; i++) await c.callTool({ name: 'blob', arguments: { bytes: 5_000_000 } });
const s = (performance.now() - t0) / 1000;
const hwm = readFileSync(`/proc/${t.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)[1];
console.log(mode, (100 / s).toFixed(1), 'MB/s', 'peak', Math.round(hwm / 1024), 'MB');
await c.close();
