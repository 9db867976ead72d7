import { defineCommand } from 'citty';
import { ExitCode } from '../errors.js';
import { runtimeOf } from '../runtime.js';
import { VERSION } from '../version.js';

export const versionCommand = defineCommand({
  meta: { name: 'version', description: 'Print the version of kvlar' },
  args: {
    json: { type: 'boolean', description: 'Print {"version": …} as JSON' },
  },
  run(context) {
    const runtime = runtimeOf(context);
    if (context.args.json === true) runtime.printJson({ version: VERSION });
    else runtime.print(`kvlar ${VERSION}`);
    return ExitCode.ok;
  },
});
