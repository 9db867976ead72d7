/**
 * The MCP clients `kvlar wrap` knows: where each keeps its config, and where in that file its
 * servers are. Pure: the home directory, platform, environment and working directory come in as
 * values, so every platform's paths can be checked from any machine.
 */
import { basename, dirname, posix, win32 } from 'node:path';

export type ClientId = 'claude-desktop' | 'cursor' | 'vscode' | 'windsurf' | 'claude-code';
export type Scope = 'user' | 'project';

export const CLIENT_IDS: readonly ClientId[] = [
  'claude-desktop',
  'cursor',
  'vscode',
  'windsurf',
  'claude-code',
];

export const CLIENT_NAMES: Readonly<Record<ClientId, string>> = {
  'claude-desktop': 'Claude Desktop',
  cursor: 'Cursor',
  vscode: 'VS Code',
  windsurf: 'Windsurf',
  'claude-code': 'Claude Code',
};

/**
 * Where a file keeps its servers: `['mcpServers']` is the object under that top-level key;
 * `['projects', '*', 'mcpServers']` is that object in every project (Claude Code's ~/.claude.json).
 */
export type ContainerPath = readonly string[];

const MCP_SERVERS: ContainerPath = ['mcpServers'];
const VSCODE_SERVERS: ContainerPath = ['servers'];
const CLAUDE_CODE_PROJECTS: ContainerPath = ['projects', '*', 'mcpServers'];

/** A file of unknown origin: look everywhere a known client would. */
export const ANY_CONTAINERS: readonly ContainerPath[] = [
  MCP_SERVERS,
  VSCODE_SERVERS,
  CLAUDE_CODE_PROJECTS,
];

export function containersOf(client: ClientId): readonly ContainerPath[] {
  switch (client) {
    case 'vscode':
      return [VSCODE_SERVERS];
    case 'claude-code':
      return [MCP_SERVERS, CLAUDE_CODE_PROJECTS];
    default:
      return [MCP_SERVERS];
  }
}

export interface Environment {
  readonly home: string;
  readonly platform: NodeJS.Platform;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface ConfigLocation {
  readonly client: ClientId;
  readonly scope: Scope;
  readonly path: string;
}

/**
 * Every file a client may keep servers in, in the order they are looked at. Claude Desktop on
 * Linux has two: where it lives (`~/.config/Claude`) and where the Rust kvlar looked
 * (`~/.config/claude`).
 */
export function configLocations(environment: Environment): ConfigLocation[] {
  const { home, platform, env, cwd } = environment;
  const path = platform === 'win32' ? win32 : posix;
  const set = (name: string): string | undefined => {
    const value = env[name];
    return value !== undefined && value !== '' ? value : undefined;
  };
  // Where Electron apps (Claude Desktop, VS Code) keep their settings: app.getPath('appData').
  const appData =
    platform === 'darwin'
      ? path.join(home, 'Library', 'Application Support')
      : platform === 'win32'
        ? (set('APPDATA') ?? path.join(home, 'AppData', 'Roaming'))
        : (set('XDG_CONFIG_HOME') ?? path.join(home, '.config'));
  const claudeCodeDir = set('CLAUDE_CONFIG_DIR') ?? home;

  const user = (client: ClientId, file: string): ConfigLocation => ({
    client,
    scope: 'user',
    path: file,
  });
  const project = (client: ClientId, file: string): ConfigLocation => ({
    client,
    scope: 'project',
    path: path.join(cwd, file),
  });

  const locations: ConfigLocation[] = [
    user('claude-desktop', path.join(appData, 'Claude', 'claude_desktop_config.json')),
  ];
  if (platform !== 'darwin' && platform !== 'win32') {
    locations.push(
      user('claude-desktop', path.join(home, '.config', 'claude', 'claude_desktop_config.json')),
    );
  }
  locations.push(
    user('cursor', path.join(home, '.cursor', 'mcp.json')),
    project('cursor', path.join('.cursor', 'mcp.json')),
    user('vscode', path.join(appData, 'Code', 'User', 'mcp.json')),
    project('vscode', path.join('.vscode', 'mcp.json')),
    user('windsurf', path.join(home, '.codeium', 'windsurf', 'mcp_config.json')),
    user('claude-code', path.join(claudeCodeDir, '.claude.json')),
    project('claude-code', '.mcp.json'),
  );
  // Two spellings of one directory (XDG_CONFIG_HOME=~/.config/claude is unlikely, but cheap).
  const seen = new Set<string>();
  return locations.filter((location) => {
    if (seen.has(location.path)) return false;
    seen.add(location.path);
    return true;
  });
}

/** Which scopes a client has: `--scope project` means nothing for Claude Desktop. */
export function scopesOf(client: ClientId): readonly Scope[] {
  return client === 'claude-desktop' || client === 'windsurf' ? ['user'] : ['user', 'project'];
}

/**
 * The client a file given with `--config` belongs to, from its name (and folder), then from its
 * content; undefined when neither tells.
 */
export function inferClient(file: string, document: unknown): ClientId | undefined {
  const name = basename(file);
  const folder = basename(dirname(file));
  if (name === 'claude_desktop_config.json') return 'claude-desktop';
  if (name === 'mcp_config.json') return 'windsurf';
  if (name === '.claude.json' || name === '.mcp.json') return 'claude-code';
  if (name === 'mcp.json') {
    if (folder === '.cursor') return 'cursor';
    if (folder === '.vscode' || folder === 'User') return 'vscode';
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return undefined;
  }
  if (Object.hasOwn(document, 'servers') && !Object.hasOwn(document, 'mcpServers')) {
    return 'vscode';
  }
  if (Object.hasOwn(document, 'projects')) return 'claude-code';
  return undefined;
}
