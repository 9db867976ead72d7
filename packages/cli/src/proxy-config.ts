/**
 * The Rust Kvlar's proxy config file (`kvlar proxy -c FILE`, YAML). Read so that deployments
 * written for it start unchanged; flags given on the command line win over the file.
 */
import { parseDocument } from 'yaml';
import { CliError } from './errors.js';

export interface RustProxyConfig {
  readonly listen_addr?: string;
  readonly upstream_addr?: string;
  readonly policy_paths?: readonly string[];
  readonly audit_enabled?: boolean;
  readonly audit_file?: string;
  readonly fail_open?: boolean;
  readonly hot_reload?: boolean;
  readonly transport?: 'tcp' | 'stdio';
  readonly upstream_command?: string;
  readonly upstream_args?: readonly string[];
  readonly health_addr?: string;
}

const STRING_KEYS = [
  'listen_addr',
  'upstream_addr',
  'audit_file',
  'upstream_command',
  'health_addr',
];
const BOOLEAN_KEYS = ['audit_enabled', 'fail_open', 'hot_reload'];
const LIST_KEYS = ['policy_paths', 'upstream_args'];
/** Keys of the Rust config for its cloud service: accepted, and said to be ignored. */
export const IGNORED_KEYS = [
  'kvlar_cloud_url',
  'kvlar_api_key',
  'kvlar_agent_id',
  'kvlar_radar_url',
];

/**
 * Parses the config text; every problem names the file, line and key. Keys it does not know are
 * warnings, as the Rust version ignored them: a typo is reported, not fatal.
 */
export function parseRustProxyConfig(
  text: string,
  file: string,
): { readonly config: RustProxyConfig; readonly warnings: readonly string[] } {
  const warnings: string[] = [];
  const document = parseDocument(text, { prettyErrors: false });
  const [first] = document.errors;
  if (first !== undefined) {
    const line = first.linePos?.[0]?.line;
    throw new CliError(
      'invalid_input',
      `${file}${line === undefined ? '' : `:${line}`}: ${first.message}`,
    );
  }
  const value: unknown = document.toJS();
  if (value === null || value === undefined) return { config: {}, warnings };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError('invalid_input', `${file}: a proxy config must be a mapping of keys`);
  }
  const config: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    const fail = (expected: string): never => {
      throw new CliError('invalid_input', `${file}: '${key}' must be ${expected}`);
    };
    if (STRING_KEYS.includes(key)) {
      if (typeof entry !== 'string') fail('a string');
    } else if (BOOLEAN_KEYS.includes(key)) {
      if (typeof entry !== 'boolean') fail('true or false');
    } else if (LIST_KEYS.includes(key)) {
      if (!Array.isArray(entry) || !entry.every((item) => typeof item === 'string')) {
        fail('a list of strings');
      }
    } else if (key === 'transport') {
      if (entry !== 'tcp' && entry !== 'stdio') fail("'tcp' or 'stdio'");
    } else if (IGNORED_KEYS.includes(key)) {
      warnings.push(`${file}: '${key}' (Kvlar cloud) is ignored by this kvlar`);
      continue;
    } else {
      warnings.push(`${file}: unknown key '${key}' ignored`);
      continue;
    }
    config[key] = entry;
  }
  return { config: config as RustProxyConfig, warnings };
}
