import { describe, expect, it } from 'vitest';
import { configLocations, inferClient } from './clients.js';

const paths = (environment: Parameters<typeof configLocations>[0]) =>
  configLocations(environment).map(({ client, scope, path }) => `${client} ${scope} ${path}`);

describe('configLocations', () => {
  it('knows where each client keeps its config on macOS', () => {
    expect(paths({ home: '/Users/me', platform: 'darwin', env: {}, cwd: '/Users/me/app' })).toEqual(
      [
        'claude-desktop user /Users/me/Library/Application Support/Claude/claude_desktop_config.json',
        'cursor user /Users/me/.cursor/mcp.json',
        'cursor project /Users/me/app/.cursor/mcp.json',
        'vscode user /Users/me/Library/Application Support/Code/User/mcp.json',
        'vscode project /Users/me/app/.vscode/mcp.json',
        'windsurf user /Users/me/.codeium/windsurf/mcp_config.json',
        'claude-code user /Users/me/.claude.json',
        'claude-code project /Users/me/app/.mcp.json',
      ],
    );
  });

  it('uses %APPDATA% on Windows', () => {
    expect(
      paths({
        home: 'C:\\Users\\me',
        platform: 'win32',
        env: { APPDATA: 'D:\\Roaming' },
        cwd: 'C:\\src\\app',
      }),
    ).toEqual([
      'claude-desktop user D:\\Roaming\\Claude\\claude_desktop_config.json',
      'cursor user C:\\Users\\me\\.cursor\\mcp.json',
      'cursor project C:\\src\\app\\.cursor\\mcp.json',
      'vscode user D:\\Roaming\\Code\\User\\mcp.json',
      'vscode project C:\\src\\app\\.vscode\\mcp.json',
      'windsurf user C:\\Users\\me\\.codeium\\windsurf\\mcp_config.json',
      'claude-code user C:\\Users\\me\\.claude.json',
      'claude-code project C:\\src\\app\\.mcp.json',
    ]);
    // Without APPDATA: where the Rust kvlar looked.
    expect(paths({ home: 'C:\\Users\\me', platform: 'win32', env: {}, cwd: 'C:\\src' })[0]).toBe(
      'claude-desktop user C:\\Users\\me\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    );
  });

  it('honours XDG_CONFIG_HOME and CLAUDE_CONFIG_DIR on Linux, and also looks where Rust did', () => {
    expect(
      paths({
        home: '/home/me',
        platform: 'linux',
        env: { XDG_CONFIG_HOME: '/home/me/.xdg', CLAUDE_CONFIG_DIR: '/home/me/.claude-work' },
        cwd: '/srv/app',
      }),
    ).toEqual([
      'claude-desktop user /home/me/.xdg/Claude/claude_desktop_config.json',
      'claude-desktop user /home/me/.config/claude/claude_desktop_config.json',
      'cursor user /home/me/.cursor/mcp.json',
      'cursor project /srv/app/.cursor/mcp.json',
      'vscode user /home/me/.xdg/Code/User/mcp.json',
      'vscode project /srv/app/.vscode/mcp.json',
      'windsurf user /home/me/.codeium/windsurf/mcp_config.json',
      'claude-code user /home/me/.claude-work/.claude.json',
      'claude-code project /srv/app/.mcp.json',
    ]);
  });
});

describe('inferClient', () => {
  it.each([
    ['/x/claude_desktop_config.json', {}, 'claude-desktop'],
    ['/x/mcp_config.json', {}, 'windsurf'],
    ['/home/me/.claude.json', {}, 'claude-code'],
    ['/repo/.mcp.json', {}, 'claude-code'],
    ['/repo/.cursor/mcp.json', {}, 'cursor'],
    ['/repo/.vscode/mcp.json', {}, 'vscode'],
    ['/x/servers.json', { servers: {} }, 'vscode'],
    ['/x/backup.json', { projects: {} }, 'claude-code'],
    ['/x/other.json', { mcpServers: {} }, undefined],
  ])('%s %j is %s', (file, document, client) => {
    expect(inferClient(file, document)).toBe(client);
  });
});
