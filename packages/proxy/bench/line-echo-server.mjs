/**
 * The cheapest MCP server there is, for measuring what a proxy costs: it reads newline-delimited
 * JSON-RPC on stdin and answers `initialize` and every other request at once (a `tools/call`
 * gets its `text` argument back as the result), with no SDK and no validation in the way.
 * Notifications get no answer.
 */
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let answers = '';
  for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
    const message = JSON.parse(pending.slice(0, end));
    pending = pending.slice(end + 1);
    if (message.id === undefined) continue;
    const result =
      message.method === 'initialize'
        ? {
            protocolVersion: message.params.protocolVersion,
            capabilities: { tools: {} },
            serverInfo: { name: 'line-echo', version: '1.0.0' },
          }
        : { content: [{ type: 'text', text: message.params?.arguments?.text ?? '' }] };
    answers += `${JSON.stringify({ jsonrpc: '2.0', id: message.id, result })}\n`;
  }
  if (answers !== '') process.stdout.write(answers);
});
