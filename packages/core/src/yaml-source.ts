/**
 * YAML text to a plain value plus a locator that turns a path inside the document into the
 * line and column where it was written, so every issue can point at the file.
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
} from 'yaml';
import type { Issue } from './issues.js';
import { isPlainObject } from './json.js';

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface YamlSource {
  readonly value: unknown;
  /** Where `path` was written; `key: true` points at the key of the last segment instead. */
  locate(path: readonly (string | number)[], options?: { key?: boolean }): Position | undefined;
}

export type YamlResult =
  | { readonly ok: true; readonly source: YamlSource }
  | { readonly ok: false; readonly issues: Issue[] };

const MAX_ALIASES = 100;

/**
 * Where a document holds text. `*` stands for any key or index. A plain (unquoted) number or
 * boolean written there is read as the text written (`version: 1.0` is "1.0", `id: 100` is
 * "100"), as serde_yaml did for the Rust Kvlar's string fields.
 */
export type TextPath = readonly string[];

export function parseYaml(
  text: string,
  file: string | undefined,
  what: string,
  textPaths: readonly TextPath[] = [],
): YamlResult {
  const lineCounter = new LineCounter();
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const fail = (code: string, message: string, position: Position): YamlResult => ({
    ok: false,
    issues: [{ code, severity: 'error', message, path: [], ...withFile(file), ...position }],
  });

  const nul = text.indexOf('\u0000');
  if (nul !== -1) {
    lineCounter.addNewLine(0);
    for (let i = 0; i < nul; i++) if (text[i] === '\n') lineCounter.addNewLine(i + 1);
    return fail('not_text', `this is binary data, not a YAML ${what} (NUL byte)`, at(nul));
  }

  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(documents) || documents.length === 0 || documents[0]!.contents === null) {
    return fail('empty_file', `the file is empty; expected a YAML ${what}`, { line: 1, column: 1 });
  }
  if (documents.length > 1) {
    const start = documents[1]!.range[0];
    return fail(
      'multiple_documents',
      `expected one YAML document, found ${documents.length}`,
      at(start),
    );
  }
  const document = documents[0]!;
  const problems = [...document.errors, ...document.warnings];
  if (problems.length > 0) {
    return {
      ok: false,
      issues: problems.map((problem) => ({
        code: 'yaml_syntax',
        severity: document.errors.includes(problem as never) ? 'error' : 'warning',
        message: firstLine(problem.message),
        path: [],
        ...withFile(file),
        ...at(problem.pos[0]),
      })),
    };
  }

  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    return fail('yaml_syntax', firstLine(error instanceof Error ? error.message : String(error)), {
      line: 1,
      column: 1,
    });
  }

  const root = document.contents as Node;
  if (textPaths.length > 0) value = plainScalarsAsText(root, value, [], textPaths);
  return {
    ok: true,
    source: {
      value,
      locate(path, options) {
        let node: Node | undefined = root;
        let found: Node | undefined = root;
        for (let i = 0; i < path.length && node !== undefined; i++) {
          const segment = path[i]!;
          const isLast = i === path.length - 1;
          if (isAlias(node)) node = node.resolve(document) as Node | undefined;
          if (isMap(node)) {
            const pair = node.items.find(
              (item) =>
                isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
            );
            if (pair === undefined) break;
            node = isLast && options?.key ? (pair.key as Node) : ((pair.value ?? pair.key) as Node);
          } else if (isSeq(node) && typeof segment === 'number') {
            node = node.items[segment] as Node | undefined;
          } else {
            break;
          }
          if (node !== undefined) found = node;
        }
        const offset = found?.range?.[0];
        return offset === undefined ? undefined : at(offset);
      },
    },
  };
}

export function withFile(file: string | undefined): { file?: string } {
  return file === undefined ? {} : { file };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function plainScalarsAsText(
  node: unknown,
  value: unknown,
  path: string[],
  textPaths: readonly TextPath[],
): unknown {
  if (isScalar(node)) {
    const plain =
      node.type === 'PLAIN' && (typeof value === 'number' || typeof value === 'boolean');
    return plain && textPaths.some((pattern) => pathMatches(pattern, path))
      ? (node.source ?? String(value))
      : value;
  }
  if (isMap(node) && isPlainObject(value)) {
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      if (!Object.hasOwn(value, key)) continue;
      const child = plainScalarsAsText(pair.value, value[key], [...path, key], textPaths);
      if (child !== value[key])
        Object.defineProperty(value, key, {
          value: child,
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
  } else if (isSeq(node) && Array.isArray(value)) {
    node.items.forEach((item, index) => {
      value[index] = plainScalarsAsText(item, value[index], [...path, String(index)], textPaths);
    });
  }
  return value;
}

function pathMatches(pattern: TextPath, path: readonly string[]): boolean {
  return (
    pattern.length === path.length &&
    pattern.every((part, index) => part === '*' || part === path[index])
  );
}
