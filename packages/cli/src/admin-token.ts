import { randomBytes } from 'node:crypto';

/**
 * The bearer token of a proxy's admin endpoint when none is given: 24 random bytes as 48 hex
 * digits. Not base64url, whose alphabet has `-`: one token in 64 began with it, and
 * `kvlar approvals --token -…` then read the token as a flag and failed as a usage error.
 */
export function newAdminToken(): string {
  return randomBytes(24).toString('hex');
}
