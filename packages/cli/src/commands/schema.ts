import { policyJsonSchema } from '@kvlar/core';
import { defineCommand } from 'citty';
import { CliError, ExitCode } from '../errors.js';
import { absoluteFrom } from '../paths.js';
import { describeFsError } from '../read-text.js';
import { runtimeOf } from '../runtime.js';
import { writeFileAtomic } from '../write-file.js';

export const schemaCommand = defineCommand({
  meta: { name: 'schema', description: 'Print the JSON Schema of the policy format' },
  args: {
    output: {
      type: 'string',
      alias: 'o',
      valueHint: 'file',
      description: 'Write the schema to this file instead of stdout',
    },
  },
  run(context) {
    const runtime = runtimeOf(context);
    const text = `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
    const { output } = context.args;
    if (output === undefined) {
      runtime.print(text.trimEnd());
      return ExitCode.ok;
    }
    try {
      writeFileAtomic(absoluteFrom(runtime.cwd, output), text);
    } catch (error) {
      throw new CliError('invalid_input', `cannot write ${output}: ${describeFsError(error)}`, {
        cause: error,
      });
    }
    runtime.print(`${runtime.colors.stdout.green('✓')} JSON Schema written to ${output}`);
    return ExitCode.ok;
  },
});
