/**
 * The file-system PolicyLoader behind `extends`. A reference is, in order: a built-in template
 * name; a path relative to the extending file's directory; a path relative to the working
 * directory (how the Rust Kvlar resolved every path, kept so its users' policies still load).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { didYouMean, type LoadResult, type PolicyLoader } from '@kvlar/core';
import { builtinFile, builtinTemplates, findBuiltinDir, isTemplateName } from './builtins.js';
import { displayPath } from './paths.js';
import { readTextFile } from './read-text.js';

export interface FileLoaderOptions {
  /** Relative references fall back to it, and files inside it are named relative to it. */
  readonly cwd: string;
  /** Where the built-in templates are; default: the ones shipped with this package. */
  readonly builtinDir?: string | undefined;
}

const BUILTIN = 'builtin:';

export function createFileLoader(options: FileLoaderOptions): PolicyLoader {
  const { cwd } = options;
  const builtinDir = 'builtinDir' in options ? options.builtinDir : findBuiltinDir();
  const templates = builtinTemplates(builtinDir);

  /** File ids are display paths (see paths.ts) or `builtin:NAME`; back to a path on disk. */
  const pathOf = (id: string): string =>
    id.startsWith(BUILTIN) && builtinDir !== undefined
      ? builtinFile(builtinDir, id.slice(BUILTIN.length))
      : resolve(cwd, id);

  const read = (path: string, id: string): LoadResult => {
    const result = readTextFile(path);
    if (result.ok) return { ok: true, file: id, text: result.text };
    const where = [id, result.line, result.column].filter((part) => part !== undefined).join(':');
    return { ok: false, message: `${where}: ${result.message}` };
  };

  return {
    load(reference, from) {
      if (builtinDir !== undefined && templates.includes(reference)) {
        return read(builtinFile(builtinDir, reference), `${BUILTIN}${reference}`);
      }
      const base = from === undefined ? cwd : dirname(pathOf(from));
      const candidates = [...new Set([resolve(base, reference), resolve(cwd, reference)])];
      const found = candidates.find((candidate) => existsSync(candidate));
      if (found !== undefined) return read(found, displayPath(found, cwd));
      const tried = candidates.map((candidate) => displayPath(candidate, cwd)).join(', ');
      const template = isTemplateName(reference)
        ? `no built-in template "${reference}"${didYouMean(reference, templates, '"')} and `
        : '';
      return { ok: false, message: `${template}no such file (tried ${tried})` };
    },
  };
}
