/** What every Approver promises the proxy; each implementation runs this suite. */
import { describe, expect, it } from 'vitest';
import type { ApprovalRequest, Approver } from '../src/approver.js';

export interface ApproverDriver {
  readonly approver: Approver;
  /** Answers the call the approver is holding, as a person or a system would. */
  approve(): Promise<void>;
  deny(reason: string): Promise<void>;
  close(): Promise<void>;
}

const request = (id: string): ApprovalRequest => ({
  id,
  actionType: 'tool_call',
  resource: 'deploy',
  arguments: { env: 'prod' },
  agentId: 'agent',
  server: 'ops',
  decision: { type: 'require_approval', ruleId: 'approve-deploy', reason: 'deploys need a human' },
  requestedAt: 0,
});

/** Resolves once `check` holds, retrying a driver step that needs the call to be held first. */
async function eventually(step: () => Promise<void>): Promise<void> {
  let last: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await step();
      return;
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  throw last;
}

export function describeApproverContract(name: string, setup: () => Promise<ApproverDriver>): void {
  describe(`${name} (approver contract)`, () => {
    it('resolves approved, naming who answered and through what', async () => {
      const driver = await setup();
      const answer = driver.approver.request(request('c-1'), new AbortController().signal);
      await eventually(() => driver.approve());
      const result = await answer;
      expect(result.approved).toBe(true);
      expect(result.approver).not.toBe('');
      expect(result.channel).not.toBe('');
      await driver.close();
    });

    it('resolves denied, with the reason given', async () => {
      const driver = await setup();
      const answer = driver.approver.request(request('c-2'), new AbortController().signal);
      await eventually(() => driver.deny('not today'));
      expect(await answer).toMatchObject({ approved: false, reason: 'not today' });
      await driver.close();
    });

    it('stops waiting when the call is withdrawn, and a late answer changes nothing', async () => {
      const driver = await setup();
      const withdraw = new AbortController();
      const answer = driver.approver.request(request('c-3'), withdraw.signal);
      await new Promise((resolve) => setTimeout(resolve, 50));
      withdraw.abort();
      await expect(answer).rejects.toBeDefined();
      await driver.approve().catch(() => {});
      await driver.close();
    });

    it('refuses a call already withdrawn', async () => {
      const driver = await setup();
      const withdraw = new AbortController();
      withdraw.abort();
      await expect(driver.approver.request(request('c-4'), withdraw.signal)).rejects.toBeDefined();
      await driver.close();
    });
  });
}
