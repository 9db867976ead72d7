import { createServer, type ServerResponse } from 'node:http';
import { createApprovalQueue } from '../src/approval-queue.js';
import { type Approver, combineApprovers } from '../src/approver.js';
import { createWebhookApprover } from '../src/webhook-approver.js';
import { describeApproverContract } from './approver-contract.js';

function queueDriver() {
  const queue = createApprovalQueue();
  const answer = async (approved: boolean, reason?: string) => {
    const [held] = queue.list();
    if (held === undefined) throw new Error('nothing held yet');
    queue.decide(held.id, {
      approved,
      approver: 'tester',
      channel: 'test',
      ...(reason === undefined ? {} : { reason }),
    });
  };
  return { queue, approve: () => answer(true), deny: (reason: string) => answer(false, reason) };
}

describeApproverContract('createApprovalQueue', async () => {
  const { queue, approve, deny } = queueDriver();
  return { approver: queue, approve, deny, close: async () => {} };
});

describeApproverContract('createWebhookApprover', async () => {
  const waiting: ServerResponse[] = [];
  const server = createServer((request, response) => {
    request.resume().on('end', () => waiting.push(response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const reply = async (value: unknown) => {
    const response = waiting.shift();
    if (response === undefined) throw new Error('nothing held yet');
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
  return {
    approver: createWebhookApprover({ url: `http://127.0.0.1:${port}/` }),
    approve: () => reply({ decision: 'approved' }),
    deny: (reason) => reply({ decision: 'denied', reason }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

describeApproverContract(
  'combineApprovers (a queue beside an approver that never answers)',
  async () => {
    const { queue, approve, deny } = queueDriver();
    const silent: Approver = {
      request: (_, signal) =>
        new Promise((_resolve, reject) => {
          if (signal.aborted) reject(new Error('withdrawn'));
          signal.addEventListener('abort', () => reject(new Error('withdrawn')), { once: true });
        }),
    };
    return { approver: combineApprovers([queue, silent]), approve, deny, close: async () => {} };
  },
);
