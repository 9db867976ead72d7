#!/usr/bin/env node
// The approvals-page test drives a real browser through playwright-core, which downloads none: it
// uses Debian's chromium. `pnpm test` runs this first so that the README's test command installs
// everything it needs on a fresh Debian machine (as root, the way CI runs), and says what to do
// anywhere else.
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';

function present() {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

if (!present()) {
  const canInstall = process.platform === 'linux' && process.getuid?.() === 0 && hasAptGet();
  if (!canInstall) {
    console.error(
      `${CHROMIUM} is missing: the approvals-page test needs Debian's chromium ` +
        '(sudo apt-get install chromium). Install it, then run the tests again.',
    );
    process.exit(1);
  }
  console.error(`${CHROMIUM} is missing: installing Debian's chromium for the browser test…`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function hasAptGet() {
  try {
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
