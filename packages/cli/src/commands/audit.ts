/** `kvlar audit <command>`: the audit log tools. Sub-commands load lazily, like the top level. */
import { defineCommand } from 'citty';

export const auditCommand = defineCommand({
  meta: { name: 'audit', description: 'Verify, summarise, export and follow audit logs' },
  subCommands: {
    verify: () => import('./audit-verify.js').then((module) => module.auditVerifyCommand),
    stats: () => import('./audit-stats.js').then((module) => module.auditStatsCommand),
    export: () => import('./audit-export.js').then((module) => module.auditExportCommand),
    tail: () => import('./audit-tail.js').then((module) => module.auditTailCommand),
  },
});
