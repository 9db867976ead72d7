import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A built-in template is named like `default` or `read-only`: a plain word, never a path. */
const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export function isTemplateName(reference: string): boolean {
  return TEMPLATE_NAME.test(reference);
}

/**
 * Where the shipped templates are. Built, this module sits in `dist/` beside the `dist/policies`
 * that tsup copies; run from source (vitest), it is in `src/` and the templates are the
 * repository's `policies/`, three levels up in both cases.
 */
export function findBuiltinDir(): string | undefined {
  for (const candidate of ['./policies/', '../../../policies/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (isDirectory(dir)) return dir;
  }
  return undefined;
}

/** The template names in `dir`: every `NAME.yaml`, not the `NAME.test.yaml` beside it. */
export function builtinTemplates(dir: string | undefined): string[] {
  if (dir === undefined) return [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => name.slice(0, -'.yaml'.length))
    .filter((name) => isTemplateName(name) && isFile(join(dir, `${name}.yaml`)))
    .sort();
}

export function builtinFile(dir: string, name: string): string {
  return join(dir, `${name}.yaml`);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
