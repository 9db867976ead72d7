import packageJson from '../package.json' with { type: 'json' };

/** The package's own version; all @kvlar/* packages version together (see .changeset). */
export const VERSION: string = packageJson.version;
