/**
 * A reader of shell command lines for the `shell` condition operator: every simple command that a
 * POSIX sh (or bash) command line could run, as data. It does not run or expand anything; what
 * only the running shell knows (variables, command output, globs) is marked as such.
 *
 * One pass over the text, no RegExp over it: time is linear in the input. Nested scripts
 * (`sh -c '…'`, `eval …`, back-ticks, a here-document read by a shell) are read once each, up to
 * MAX_SHELL_DEPTH levels of nesting. Wrappers (sudo, env, xargs, find -exec, …) are in
 * shell-wrappers.ts.
 */
import { unwrapCommand, type WrapperHost } from './shell-wrappers.js';

/** One word of a command, as `parseShell` read it. */
export interface ShellWord {
  /** The word after quote removal; expansions stay as written (`$HOME`, `$(date)`). */
  readonly text: string;
  /**
   * It holds an expansion whose value is only known at run time: `$X`, `${X}`, `$(…)`, back-ticks,
   * `$((…))`, process substitution, brace expansion (`{a,b}`), or arguments read from input.
   */
  readonly dynamic: boolean;
}

/** A path a command writes to, as `parseShell` read it. */
export interface WrittenPath extends ShellWord {
  /**
   * The command may write anywhere under this directory, not only the path itself: a host
   * directory mounted writable into a container (`docker run -v /etc:/e`).
   */
  readonly tree?: boolean;
}

/** One command the line could run: after `;`, `|`, `&&`, inside `$( )`, `sh -c '…'`, sudo… */
export interface SimpleCommand {
  /** The base name of the first word after quote removal (`/usr/bin/rm` is `rm`); may be empty. */
  readonly program: string;
  /** The first word is only known at run time (an expansion, or an unquoted glob). */
  readonly programUnknown: boolean;
  /** The words after the program, after quote removal. */
  readonly args: readonly ShellWord[];
  /**
   * Its input comes from another command or from the command line: a pipe, a here-document, a
   * here-string, or a process substitution `<(…)` (as stdin or as an argument).
   */
  readonly piped: boolean;
  /**
   * Its input is another command's output: a pipe, `<(…)`, or a here-string or unquoted
   * here-document whose text holds a command substitution (`<<< "$(curl …)"`), not text written
   * in the command line.
   */
  readonly pipedFromCommand: boolean;
  /**
   * Where it writes: the targets of `>`, `>>`, `>|`, `&>`, `&>>`, `<>`, `N>` and `>&file`, the
   * files a wrapper's options name (`time -o FILE`) and the host directories it mounts writable
   * into a container.
   */
  readonly writesTo: readonly WrittenPath[];
  /**
   * It starts a container with the host's power: privileged, with added capabilities or host
   * devices, in the host's processes or user namespace, with confinement turned off, with the
   * Docker socket; or a debugging pod on a node (`kubectl debug node/…`).
   */
  readonly hostAccess: boolean;
  /** The command as written, for explanations. */
  readonly text: string;
}

/** `parseShell`'s answer: every command the line could run, or why it cannot be read. */
export type ShellParseResult =
  | { readonly ok: true; readonly commands: readonly SimpleCommand[] }
  | { readonly ok: false; readonly reason: string };

/** The longest command line `parseShell` reads, in characters; longer lines do not parse. */
export const MAX_SHELL_LENGTH = 64 * 1024;
/** How deeply nested scripts (`sh -c`, `eval`, `$( )`) may go before a line does not parse. */
export const MAX_SHELL_DEPTH = 32;
/** Nested scripts are read again (`sh -c '…'` inside `eval '…'`): all reading stops past this. */
const MAX_WORK = 8 * MAX_SHELL_LENGTH;

/** A word as the reader sees it, with what the matcher does not need. */
export interface Word extends ShellWord {
  /** An unquoted `*`, `?`, `[` or extglob: the shell may replace it with file names. */
  readonly glob: boolean;
  /** Any part was quoted or escaped (so it is not a reserved word). */
  readonly quoted: boolean;
  /**
   * An expansion outside double quotes (`$X`, `$(…)`, back-ticks) or a brace list: the shell may
   * make several words of it, or none.
   */
  readonly splits: boolean;
  /** `NAME=value` (or `NAME+=`, `NAME[i]=`) with the name unquoted. */
  readonly assignment: boolean;
  /** Holds a process substitution `<(…)`, whose output the command reads. */
  readonly processInput: boolean;
  readonly start: number;
  readonly end: number;
}

interface CommandRecord {
  program: string;
  programUnknown: boolean;
  args: ShellWord[];
  piped: boolean;
  pipedFromCommand: boolean;
  writesTo: WrittenPath[];
  hostAccess: boolean;
  text: string;
  /** A shell reading its script from standard input (no `-c`). */
  stdinScript: boolean;
  /** Found directly inside `((…))`, which may turn out to be arithmetic. */
  arithmetic: object | undefined;
}

type FrameKind = 'root' | 'paren' | 'brace' | 'if' | 'loop' | 'case' | 'arith';

interface Frame {
  readonly kind: FrameKind;
  /** Inside `((…))` or `$((…))`: reserved words, here-documents and `(` are not special. */
  readonly arithmetic: object | undefined;
}

interface Stage {
  readonly start: number;
  end: number;
  /** Fed by a pipe, a process substitution, a here-document or a here-string. */
  piped: boolean;
  /** Fed by a pipe or a process substitution. */
  fromCommand: boolean;
  /**
   * Fed a here-string or here-document that holds a command's output (`<<< "$(curl …)"`): as
   * fed by a command, except for the commands making that text, which run before and read
   * nothing of it.
   */
  fromOutput: boolean;
  /** Where in `records` the commands making such text are: [start, end) pairs. */
  producers: number[];
  hereStrings: Word[];
}

/** Words between operators inside `[[ … ]]`, as dash would run them. */
interface Segment {
  readonly words: Word[];
  readonly writes: Word[];
  readonly runs: boolean;
}

interface HereDocument {
  readonly delimiter: string;
  readonly stripTabs: boolean;
  readonly quoted: boolean;
  readonly stage: Stage;
}

interface Shared {
  readonly records: CommandRecord[];
  work: number;
}

class ParseFailure {
  constructor(readonly reason: string) {}
}

const BLANK = new Set([' ', '\t']);
/** Characters that end an unquoted word. */
const META = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>']);
const RESERVED = new Set([
  'if',
  'then',
  'elif',
  'else',
  'fi',
  'while',
  'until',
  'for',
  'select',
  'do',
  'done',
  'case',
  'esac',
  'function',
  'coproc',
]);
const SPECIAL_PARAMETERS = new Set(['@', '*', '#', '?', '$', '!', '-', '0']);
const EXTGLOB = new Set(['@', '!', '*', '+', '?']);
const QUOTING = new Set(["'", '"', '\\', '$', '`']);

/**
 * Every simple command the command line could run, or why it cannot be read (a syntax error,
 * more than MAX_SHELL_LENGTH characters, nesting deeper than MAX_SHELL_DEPTH). Never throws.
 */
export function parseShell(text: string): ShellParseResult {
  if (typeof text !== 'string') return { ok: false, reason: 'the command is not text' };
  if (text.length > MAX_SHELL_LENGTH) {
    return { ok: false, reason: `the command is longer than ${MAX_SHELL_LENGTH} characters` };
  }
  const shared: Shared = { records: [], work: 0 };
  try {
    new Parser(text, 0, shared, false).parseScript();
  } catch (error) {
    if (error instanceof ParseFailure) return { ok: false, reason: error.reason };
    // A bug must not let a command through: the caller treats this like a syntax error.
    return { ok: false, reason: 'the command could not be read' };
  }
  const commands: SimpleCommand[] = shared.records.map((record) =>
    Object.freeze({
      program: record.program,
      programUnknown: record.programUnknown,
      args: Object.freeze(record.args),
      piped: record.piped,
      pipedFromCommand: record.pipedFromCommand,
      writesTo: Object.freeze(record.writesTo),
      hostAccess: record.hostAccess,
      text: record.text,
    }),
  );
  return { ok: true, commands: Object.freeze(commands) };
}

class Parser implements WrapperHost {
  private pos = 0;
  /** Open frames (subshells, groups, substitutions, …) in this text. */
  private nesting = 0;
  private pending: HereDocument[] = [];
  /** While unwrapping: how many wrappers deep the command is. */
  private wrapperLevel = 0;

  constructor(
    private readonly src: string,
    private readonly depth: number,
    private readonly shared: Shared,
    /** Expansions inside single quotes run too: the text is an unquoted here-document's body. */
    private readonly expandInSingleQuotes: boolean,
  ) {
    shared.work += src.length;
    if (shared.work > MAX_WORK) this.fail('the command nests too many scripts to read');
    if (depth > MAX_SHELL_DEPTH)
      this.fail(`the command nests deeper than ${MAX_SHELL_DEPTH} levels`);
  }

  parseScript(): void {
    this.parseList({ kind: 'root', arithmetic: undefined });
    this.readHereDocuments();
  }

  /**
   * Only the expansions of a text: the body of an unquoted here-document. True when it holds one
   * (its text is then only known at run time).
   */
  scanExpansions(): boolean {
    const acc = { text: '', dynamic: false };
    this.readDoubleQuoted(acc, false, true);
    return acc.dynamic;
  }

  private fail(reason: string): never {
    throw new ParseFailure(reason);
  }

  private enter(): void {
    if (++this.nesting + this.depth > MAX_SHELL_DEPTH) {
      this.fail(`the command nests deeper than ${MAX_SHELL_DEPTH} levels`);
    }
  }

  private leave(): void {
    this.nesting--;
  }

  // ---- Lists, pipelines and compound commands ----

  /** Commands until the end of the frame; returns what ended it. */
  private parseList(frame: Frame): string {
    let piped = false;
    for (;;) {
      this.skipBlanks(true);
      const c = this.src[this.pos];
      const next = this.src[this.pos + 1];
      if (c === undefined) {
        if (frame.kind === 'root') return 'eof';
        this.fail(`unterminated ${FRAME_NAMES[frame.kind]}`);
      }
      if (c === '\n') {
        this.pos++;
        this.readHereDocuments();
        continue;
      }
      if (c === ';') {
        if (next === ';' || next === '&') {
          if (frame.kind === 'case') {
            this.pos += next === ';' && this.src[this.pos + 2] === '&' ? 3 : 2;
            return ';;';
          }
          if (frame.arithmetic === undefined) this.fail(`unexpected "${c}${next}" outside a case`);
          this.pos += 2;
          continue;
        }
        this.pos++;
        piped = false;
        continue;
      }
      if (c === '&' && next !== '>') {
        this.pos += next === '&' ? 2 : 1;
        piped = false;
        continue;
      }
      if (c === '|') {
        this.pos += next === '|' || next === '&' ? 2 : 1;
        piped = next !== '|';
        continue;
      }
      if (c === ')') {
        if (frame.kind === 'paren' || frame.kind === 'arith') {
          this.pos++;
          return ')';
        }
        this.fail('unexpected ")"');
      }
      const end = this.parseCommand(frame, piped);
      piped = false;
      if (end !== undefined) return end;
    }
  }

  /**
   * One pipeline stage: a simple or compound command with its redirections. Returns the word that
   * ends the enclosing frame (`fi`, `done`, `esac`, `}`) when it meets one instead.
   */
  private parseCommand(frame: Frame, piped: boolean): string | undefined {
    const stage: Stage = {
      start: this.shared.records.length,
      end: -1,
      piped,
      fromCommand: piped,
      fromOutput: false,
      producers: [],
      hereStrings: [],
    };
    const writes: Word[] = [];
    let reserved: string | undefined;
    for (;;) {
      this.skipBlanks(false);
      reserved = frame.arithmetic === undefined ? this.peekReserved() : undefined;
      if (reserved === '!') {
        this.pos++;
        continue;
      }
      if (reserved === 'function') {
        // `function name [()] body`: the body runs when the function is called.
        this.pos += reserved.length;
        this.skipBlanks(false);
        if (this.readWord(frame).text === '') this.fail('missing function name');
        this.skipBlanks(false);
        if (this.src[this.pos] === '(') this.expectEmptyParens();
        this.skipSpace();
        continue;
      }
      if (reserved === 'coproc') {
        this.pos += reserved.length;
        this.skipBlanks(false);
        const name = this.peekName();
        if (name !== undefined) {
          const after = this.pos + name.length;
          let i = after;
          while (BLANK.has(this.src[i] ?? '')) i++;
          if (i > after && (this.src[i] === '{' || this.src[i] === '(')) this.pos = i;
        }
        continue;
      }
      break;
    }

    let compound = true;
    switch (reserved) {
      case '{':
        this.pos++;
        this.enter();
        this.parseList({ kind: 'brace', arithmetic: frame.arithmetic });
        this.leave();
        break;
      case 'if':
        this.pos += 2;
        this.enter();
        this.parseList({ kind: 'if', arithmetic: undefined });
        this.leave();
        break;
      case 'while':
      case 'until':
        this.pos += reserved.length;
        this.enter();
        this.parseList({ kind: 'loop', arithmetic: undefined });
        this.leave();
        break;
      case 'for':
      case 'select':
        this.pos += reserved.length;
        this.enter();
        this.parseForHeader(frame);
        this.parseList({ kind: 'loop', arithmetic: undefined });
        this.leave();
        break;
      case 'case':
        this.pos += 4;
        this.enter();
        this.parseCase(frame);
        this.leave();
        break;
      case '[[':
        this.pos += 2;
        this.parseConditional(frame, stage);
        break;
      case 'then':
      case 'elif':
      case 'else':
        if (frame.kind !== 'if') this.fail(`unexpected "${reserved}"`);
        this.pos += reserved.length;
        return undefined;
      case 'do':
        if (frame.kind !== 'loop') this.fail('unexpected "do"');
        this.pos += 2;
        return undefined;
      case '}':
      case 'fi':
      case 'done':
      case 'esac': {
        const expected = CLOSERS[frame.kind];
        if (expected !== reserved) this.fail(`unexpected "${reserved}"`);
        this.pos += reserved.length;
        return reserved;
      }
      default:
        if (this.src[this.pos] === '(') {
          this.pos++;
          this.parseParenthesized(frame, true);
        } else {
          compound = false;
          const definition = this.parseSimple(frame, stage, writes);
          if (definition) {
            // `name() body`: the body is a command (it runs when the function is called).
            this.skipSpace();
            this.enter();
            const end = this.parseCommand(frame, false);
            this.leave();
            return end;
          }
        }
    }
    if (compound) this.parseRedirections(frame, stage, writes);
    this.finishStage(stage, compound ? writes : []);
    return undefined;
  }

  /**
   * After `(`: a subshell, or with `((` possibly arithmetic. Consumes the closing `)`. With
   * `wordsMayRun`, the words of arithmetic `((…))` still count as commands: bash reads a command
   * `((x))` as arithmetic, but dash, often /bin/sh, reads it as two subshells running `x`.
   */
  private parseParenthesized(frame: Frame, wordsMayRun = false): void {
    this.enter();
    if (this.src[this.pos] === '(') {
      this.pos++;
      this.enter();
      const tag = {};
      const start = this.shared.records.length;
      this.parseList({ kind: 'arith', arithmetic: tag });
      this.leave();
      const records = this.shared.records;
      if (this.src[this.pos] === ')') {
        // `((…))`: arithmetic. Commands inside substitutions in it still run; its words do not.
        this.pos++;
        let kept = start;
        for (let i = start; i < records.length; i++) {
          const record = records[i]!;
          if (record.arithmetic === tag) {
            if (!wordsMayRun) continue;
            record.arithmetic = frame.arithmetic;
          }
          records[kept++] = record;
        }
        records.length = kept;
        this.leave();
        return;
      }
      // `((a) | b)`: two subshells after all, and the inner one is closed.
      for (let i = start; i < records.length; i++) {
        if (records[i]!.arithmetic === tag) records[i]!.arithmetic = frame.arithmetic;
      }
    }
    this.parseList({ kind: 'paren', arithmetic: frame.arithmetic });
    this.leave();
  }

  private parseForHeader(frame: Frame): void {
    this.skipBlanks(false);
    if (this.src[this.pos] === '(' && this.src[this.pos + 1] === '(') {
      this.pos++;
      this.parseParenthesized(frame);
    } else if (this.readWord(frame).text === '') {
      this.fail('missing loop variable');
    }
    this.skipSpace();
    if (this.peekKeyword('in')) {
      this.pos += 2;
      for (;;) {
        this.skipBlanks(false);
        const c = this.src[this.pos];
        if (c === undefined) this.fail('unterminated for loop');
        if (c === ';' || c === '\n') break;
        if (META.has(c) && !this.atProcessSubstitution())
          this.fail(`unexpected "${c}" in a for loop`);
        this.readWord(frame);
      }
    }
    if (this.src[this.pos] === ';') this.pos++;
  }

  private parseCase(frame: Frame): void {
    this.skipBlanks(false);
    const subject = this.readWord(frame);
    if (subject.start === subject.end) this.fail('missing case word');
    this.skipSpace();
    if (!this.peekKeyword('in')) this.fail('expected "in" after the case word');
    this.pos += 2;
    for (;;) {
      this.skipSpace();
      if (this.src[this.pos] === undefined) this.fail('unterminated case');
      if (this.peekKeyword('esac')) {
        this.pos += 4;
        return;
      }
      if (this.src[this.pos] === '(') this.pos++;
      for (;;) {
        this.skipBlanks(false);
        const before = this.pos;
        this.readWord(frame);
        if (this.pos === before) this.fail('missing case pattern');
        this.skipBlanks(false);
        const c = this.src[this.pos];
        this.pos++;
        if (c === ')') break;
        if (c !== '|') this.fail('expected ")" after a case pattern');
      }
      if (this.parseList({ kind: 'case', arithmetic: frame.arithmetic }) === 'esac') return;
    }
  }

  /**
   * `[[ … ]]`: bash tests its words and runs none of them, but the expansions in them run. dash
   * (often /bin/sh) has no `[[`: it runs a command `[[`, which fails, then whatever follows `||`,
   * `;`, `|`, `&` or a newline inside, and `>` redirects. Both readings count, unless a `(` in it
   * is a syntax error for dash.
   */
  private parseConditional(frame: Frame, stage: Stage): void {
    const src = this.src;
    // The `[[` command first: it fails, and so does what follows it with `&&`.
    let current: Segment = { words: [], writes: [], runs: false };
    const segments: Segment[] = [];
    let failing = true;
    let parenthesis = false;
    for (;;) {
      this.skipBlanks(false);
      const c = src[this.pos];
      const next = src[this.pos + 1];
      if (c === undefined) this.fail('unterminated [[');
      if (c === ']' && next === ']' && this.isWordEnd(this.pos + 2)) {
        this.pos += 2;
        break;
      }
      let operator: string | undefined;
      if (c === '\n') {
        this.pos++;
        this.readHereDocuments();
        operator = ';';
      } else if (c === ';' || (c === '&' && next !== '>') || c === '|') {
        operator = (c === '&' || c === '|') && next === c ? c + c : c;
        this.pos += operator.length === 1 && c === '|' && next === '&' ? 2 : operator.length;
      }
      if (operator !== undefined) {
        segments.push(current);
        const runs = operator !== '&&' || !failing;
        if (runs) failing = false;
        current = { words: [], writes: [], runs };
        continue;
      }
      if (c === '(' || c === ')') {
        parenthesis = true;
        this.pos++;
        continue;
      }
      if (this.parseRedirection(frame, stage, current.writes)) continue;
      const word = this.readWord(frame);
      if (word.start === word.end) this.pos++;
      else current.words.push(word);
    }
    segments.push(current);
    if (parenthesis) return;
    segments.forEach((segment, index) => {
      // dash performs the redirections of the failing `[[` too.
      if (!segment.runs) {
        if (index === 0 && segment.writes.length > 0)
          this.emitRedirectionOnly(segment.writes, frame);
        return;
      }
      const words = segment.words;
      let first = 0;
      while (first < words.length && isPrefixWord(words[first]!)) first++;
      if (first < words.length) this.emit(words.slice(first), segment.writes, frame);
      else if (segment.writes.length > 0) this.emitRedirectionOnly(segment.writes, frame);
    });
  }

  /** Words and redirections up to the next operator. True for a function definition `name()`. */
  private parseSimple(frame: Frame, stage: Stage, writes: Word[]): boolean {
    const words: Word[] = [];
    /** Where `&>` stood: dash reads it as `&` (end of the command) and `>`. */
    let ampersand = -1;
    for (;;) {
      this.skipBlanks(false);
      const c = this.src[this.pos];
      if (c === undefined || c === '\n' || c === ';' || c === '|' || c === ')') break;
      if (c === '&' && this.src[this.pos + 1] !== '>') break;
      if (c === '#') {
        this.skipComment();
        break;
      }
      if (c === '(') {
        if (frame.arithmetic !== undefined) break;
        if (words.length === 1 && !words[0]!.quoted && !words[0]!.dynamic) {
          this.expectEmptyParens();
          return true;
        }
        this.fail('unexpected "("');
      }
      if (c === '&' && ampersand === -1) ampersand = words.length;
      if (this.parseRedirection(frame, stage, writes)) continue;
      const word = this.readWord(frame);
      if (word.processInput) stage.piped = stage.fromCommand = true;
      if (words.length === 0 && word.assignment) continue;
      words.push(word);
    }
    if (words.length > 0) this.emit(words, writes, frame);
    else if (writes.length > 0) this.emitRedirectionOnly(writes, frame);
    // `a &> f rm x` is `a rm x` to bash and `a &` then `> f rm x` to dash: both count.
    if (ampersand > 0) {
      let first = ampersand;
      while (first < words.length && isPrefixWord(words[first]!)) first++;
      if (first < words.length) this.emit(words.slice(first), writes, frame);
    }
    return false;
  }

  private parseRedirections(frame: Frame, stage: Stage, writes: Word[]): void {
    for (;;) {
      this.skipBlanks(false);
      if (!this.parseRedirection(frame, stage, writes)) return;
    }
  }

  /** One redirection at the current position, if there is one. */
  private parseRedirection(frame: Frame, stage: Stage, writes: Word[]): boolean {
    const src = this.src;
    let i = this.pos;
    while (src[i] !== undefined && src[i]! >= '0' && src[i]! <= '9') i++;
    const c = src[i];
    const next = src[i + 1];
    let op: string;
    if (c === '&' && i === this.pos && next === '>') op = src[i + 2] === '>' ? '&>>' : '&>';
    else if (c === '<') {
      if (next === '(' && i === this.pos) return false;
      if (next === '<') op = src[i + 2] === '<' ? '<<<' : src[i + 2] === '-' ? '<<-' : '<<';
      else op = next === '>' ? '<>' : next === '&' ? '<&' : '<';
    } else if (c === '>') {
      if (next === '(' && i === this.pos) return false;
      op = next === '>' ? '>>' : next === '|' ? '>|' : next === '&' ? '>&' : '>';
    } else return false;
    this.pos = i + op.length;
    this.skipBlanks(false);
    if ((op === '<<' || op === '<<-') && frame.arithmetic === undefined) {
      this.readHereDocumentDelimiter(op === '<<-', stage);
      return true;
    }
    const before = this.shared.records.length;
    const target = this.readWord(frame);
    if (target.start === target.end) this.fail(`missing target after "${op}"`);
    switch (op) {
      case '<':
        if (target.processInput) stage.piped = stage.fromCommand = true;
        break;
      case '<<<':
        stage.piped = true;
        // `python3 - <<< "$(curl …)"` reads what curl printed, as `curl … | python3 -` does.
        if (this.shared.records.length > before) {
          this.fedByOutput(stage, before, this.shared.records.length);
        }
        stage.hereStrings.push(target);
        break;
      case '<&':
      case '<<':
      case '<<-':
        break;
      case '>&':
        if (!target.dynamic && isDescriptor(target.text)) break;
        writes.push(target);
        break;
      default:
        writes.push(target);
    }
    return true;
  }

  private finishStage(stage: Stage, compoundWrites: readonly Word[]): void {
    const records = this.shared.records;
    stage.end = records.length;
    if (compoundWrites.length > 0) {
      const targets = compoundWrites.map(shellWord);
      for (let i = stage.start; i < stage.end; i++) {
        records[i]!.writesTo = [...records[i]!.writesTo, ...targets];
      }
      if (stage.start === stage.end) this.emitRedirectionOnly(compoundWrites, undefined);
    }
    if (stage.piped) {
      for (let i = stage.start; i < stage.end; i++) {
        records[i]!.piped = true;
        if (stage.fromCommand || (stage.fromOutput && !isProducer(stage, i))) {
          records[i]!.pipedFromCommand = true;
        }
      }
    }
    for (const word of stage.hereStrings) {
      if (!this.readsScript(stage)) break;
      if (word.dynamic) this.emitUnknown(word, []);
      else this.parseNested(word.text, false);
    }
  }

  private readsScript(stage: Stage): boolean {
    const records = this.shared.records;
    const end = stage.end === -1 ? records.length : stage.end;
    for (let i = stage.start; i < end; i++) {
      // A shell making the here-string's text (`<<< "$(bash x)"`) does not read it.
      if (records[i]!.stdinScript && !isProducer(stage, i)) return true;
    }
    return false;
  }

  // ---- Here-documents ----

  private readHereDocumentDelimiter(stripTabs: boolean, stage: Stage): void {
    let delimiter = '';
    let quoted = false;
    const src = this.src;
    for (;;) {
      const c = src[this.pos];
      if (c === undefined || META.has(c)) break;
      if (c === '\\') {
        quoted = true;
        if (src[this.pos + 1] !== undefined) delimiter += src[this.pos + 1];
        this.pos += 2;
      } else if (c === "'" || c === '"') {
        quoted = true;
        const end = src.indexOf(c, this.pos + 1);
        if (end === -1) this.fail(`unterminated ${c === "'" ? 'single' : 'double'} quote`);
        delimiter += src.slice(this.pos + 1, end);
        this.pos = end + 1;
      } else {
        delimiter += c;
        this.pos++;
      }
    }
    if (delimiter === '' && !quoted) this.fail('missing here-document delimiter');
    stage.piped = true;
    this.pending.push({ delimiter, stripTabs, quoted, stage });
  }

  /** After a newline: the bodies of the here-documents opened on the line, in order. */
  private readHereDocuments(): void {
    if (this.pending.length === 0) return;
    const documents = this.pending;
    this.pending = [];
    const src = this.src;
    for (const document of documents) {
      const start = this.pos;
      let end = src.length;
      while (this.pos < src.length) {
        const newline = src.indexOf('\n', this.pos);
        const lineEnd = newline === -1 ? src.length : newline;
        let lineStart = this.pos;
        if (document.stripTabs) while (src[lineStart] === '\t') lineStart++;
        const isDelimiter = src.slice(lineStart, lineEnd) === document.delimiter;
        const lineBegin = this.pos;
        this.pos = newline === -1 ? src.length : newline + 1;
        if (isDelimiter) {
          end = lineBegin;
          break;
        }
      }
      const body = src.slice(start, end);
      const stage = document.stage;
      if (this.readsScript(stage)) {
        this.parseNested(body, !document.quoted);
        if (!document.quoted) this.expandedScript(body, stage);
      } else if (!document.quoted && (body.includes('$') || body.includes('`'))) {
        const before = this.shared.records.length;
        new Parser(body, this.depth + this.nesting + 1, this.shared, false).scanExpansions();
        // `python3 - <<EOF` over `$(curl …)` reads what curl printed.
        if (this.shared.records.length > before) {
          this.fedByOutput(stage, before, this.shared.records.length);
        }
      }
    }
  }

  /**
   * A shell reading an unquoted here-document runs its text after expansion: what an expansion
   * yields is read as code, as `eval "…$x…"` reads it. The commands written in it were parsed;
   * the script as a whole is only known at run time, and one holding `$(…)` is fed by a command.
   */
  private expandedScript(body: string, stage: Stage): void {
    // Counted apart: the commands in the expansions were already read with the script.
    const scratch: Shared = { records: [], work: this.shared.work };
    const dynamic = new Parser(
      body,
      this.depth + this.nesting + 1,
      scratch,
      false,
    ).scanExpansions();
    this.shared.work = scratch.work;
    if (scratch.records.length > 0) this.fedByOutput(stage, this.shared.records.length, -1);
    if (dynamic) this.emitUnknown({ text: body, dynamic: true }, []);
  }

  /**
   * The stage reads text made by the commands at [start, end) of `records`. A stage already
   * finished (its here-document is read after it) is marked at once.
   */
  private fedByOutput(stage: Stage, start: number, end: number): void {
    stage.fromOutput = true;
    if (end > start) stage.producers.push(start, end);
    if (stage.end === -1) return;
    const records = this.shared.records;
    for (let i = stage.start; i < stage.end; i++) {
      if (isProducer(stage, i)) continue;
      records[i]!.piped = true;
      records[i]!.pipedFromCommand = true;
    }
  }

  // ---- Words ----

  /** A word at the current position (possibly empty, when a metacharacter follows). */
  private readWord(frame: Frame): Word {
    const src = this.src;
    const start = this.pos;
    const acc = { text: '', dynamic: false };
    let glob = false;
    let quoted = false;
    let assignment = false;
    let processInput = false;
    /** Still a candidate for `NAME=`: only unquoted name characters so far. */
    let nameSoFar = true;
    let braceOpen = false;
    let braceList = false;
    let splits = false;
    let bracket = false;
    for (;;) {
      const c = src[this.pos];
      if (c === undefined) break;
      if (c === '<' || c === '>') {
        if (src[this.pos + 1] !== '(') break;
        // `<(…)` / `>(…)`: a file name for a pipe to or from the commands inside.
        const at = this.pos;
        const first = this.shared.records.length;
        this.pos += 2;
        this.parseParenthesized({ kind: 'paren', arithmetic: undefined });
        if (c === '<') processInput = true;
        else {
          for (let i = first; i < this.shared.records.length; i++) {
            this.shared.records[i]!.piped = true;
            this.shared.records[i]!.pipedFromCommand = true;
          }
        }
        acc.text += src.slice(at, this.pos);
        acc.dynamic = true;
        nameSoFar = false;
        continue;
      }
      if (c === '(') {
        const previous = src[this.pos - 1];
        if (this.pos > start && previous !== undefined && EXTGLOB.has(previous)) {
          this.readExtglob(acc);
          glob = true;
          nameSoFar = false;
          continue;
        }
        break;
      }
      if (META.has(c)) break;
      switch (c) {
        case '\\': {
          const next = src[this.pos + 1];
          if (next === '\n') {
            this.pos += 2;
            continue;
          }
          quoted = true;
          nameSoFar = false;
          if (next === undefined) {
            acc.text += '\\';
            this.pos++;
          } else {
            acc.text += next;
            this.pos += 2;
          }
          continue;
        }
        case "'": {
          const end = src.indexOf("'", this.pos + 1);
          if (end === -1) this.fail('unterminated single quote');
          const content = src.slice(this.pos + 1, end);
          if (this.expandInSingleQuotes && (content.includes('$') || content.includes('`'))) {
            new Parser(content, this.depth + this.nesting + 1, this.shared, false).scanExpansions();
          }
          acc.text += content;
          this.pos = end + 1;
          quoted = true;
          nameSoFar = false;
          continue;
        }
        case '"':
          this.pos++;
          this.readDoubleQuoted(acc, true, false);
          quoted = true;
          nameSoFar = false;
          continue;
        case '$': {
          const next = src[this.pos + 1];
          if (next === "'") {
            this.pos += 2;
            acc.text += this.readAnsiC();
            quoted = true;
            nameSoFar = false;
            continue;
          }
          if (next === '"') {
            this.pos += 2;
            this.readDoubleQuoted(acc, true, false);
            quoted = true;
            nameSoFar = false;
            continue;
          }
          if (this.readDollar(acc, false)) {
            nameSoFar = false;
            splits = true;
          } else {
            acc.text += '$';
            this.pos++;
            nameSoFar = false;
          }
          continue;
        }
        case '`':
          this.readBackticks(acc, false);
          splits = true;
          nameSoFar = false;
          continue;
        case '*':
        case '?':
          glob = true;
          break;
        case '[':
          if (nameSoFar && isName(acc.text) && this.readArrayIndex(acc)) continue;
          // A `[` is a glob only with a `]` after it in the word.
          bracket = true;
          break;
        case ']':
          if (bracket) glob = true;
          break;
        case '{':
          braceOpen = true;
          break;
        case ',':
          if (braceOpen) braceList = true;
          break;
        case '.':
          if (braceOpen && src[this.pos + 1] === '.') braceList = true;
          break;
        case '}':
          // `{a,b}` and `{1..3}` become several words.
          if (braceList) {
            acc.dynamic = true;
            splits = true;
          }
          break;
        case '=':
          if (nameSoFar && isAssignmentName(acc.text)) {
            assignment = true;
            acc.text += c;
            this.pos++;
            nameSoFar = false;
            if (src[this.pos] === '(') this.readArrayValue(frame, acc);
            continue;
          }
          break;
      }
      if (c !== '+' && !isNameChar(c)) nameSoFar = false;
      acc.text += c;
      this.pos++;
    }
    // "$@", "${arr[@]}", "${@:2}" and "${!prefix@}" are several words even in double quotes.
    if (acc.dynamic && /\$\{?@|\[@\]|\$\{![A-Za-z_][A-Za-z0-9_]*@/.test(acc.text)) splits = true;
    if (src[start] === '~') this.expandTilde(acc, start);
    return {
      text: acc.text,
      dynamic: acc.dynamic,
      glob,
      quoted,
      splits,
      assignment,
      processInput,
      start,
      end: this.pos,
    };
  }

  /**
   * A word that starts with an unquoted `~` and a login name (up to the first `/`, or `:` for
   * bash) is that user's home: `~root/.bashrc` is `/root/.bashrc`, and to bash `~root:/r` is
   * `/root:/r`. `~+` is the working directory to bash (read as `.`); any other name (`~bob`, and
   * bash's `~-`, `~+1`) only the shell knows. A bare `~` stays `~`, as policies write it.
   */
  private expandTilde(acc: { text: string; dynamic: boolean }, start: number): void {
    let end = start + 1;
    while (end < this.pos && this.src[end] !== '/' && this.src[end] !== ':') {
      if (!TILDE_NAME.test(this.src[end]!)) return;
      end++;
    }
    const name = this.src.slice(start + 1, end);
    if (name === '') return;
    const rest = acc.text.slice(1 + name.length);
    if (name === 'root') acc.text = `/root${rest}`;
    else if (name === '+') acc.text = `.${rest}`;
    else acc.dynamic = true;
  }

  /** At `[` after `NAME`: `NAME[index]=` is an array element assignment, not a glob. */
  private readArrayIndex(acc: { text: string }): boolean {
    const src = this.src;
    let i = this.pos + 1;
    while (i < src.length && src[i] !== ']' && !META.has(src[i]!) && !QUOTING.has(src[i]!)) i++;
    if (src[i] !== ']' || src[i + 1] !== '=') return false;
    acc.text += src.slice(this.pos, i + 1);
    this.pos = i + 1;
    return true;
  }

  /** At `(` after `NAME=`: an array's elements, each a word. */
  private readArrayValue(frame: Frame, acc: { text: string; dynamic: boolean }): void {
    const at = this.pos;
    this.pos++;
    this.enter();
    for (;;) {
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === undefined) this.fail('unterminated array assignment');
      if (c === ')') {
        this.pos++;
        break;
      }
      const element = this.readWord(frame);
      if (element.start === element.end) this.fail(`unexpected "${c}" in an array assignment`);
      if (element.dynamic) acc.dynamic = true;
    }
    this.leave();
    acc.text += this.src.slice(at, this.pos);
  }

  /** After `"` (or over a whole here-document body when `toEnd`). */
  private readDoubleQuoted(
    acc: { text: string; dynamic: boolean },
    closing: boolean,
    toEnd: boolean,
  ): void {
    const src = this.src;
    for (;;) {
      const c = src[this.pos];
      if (c === undefined) {
        if (toEnd) return;
        this.fail('unterminated double quote');
      }
      if (c === '"' && closing && !toEnd) {
        this.pos++;
        return;
      }
      if (c === '\\') {
        const next = src[this.pos + 1];
        if (next === '\n') {
          this.pos += 2;
          continue;
        }
        if (next === '$' || next === '`' || next === '\\' || (next === '"' && !toEnd)) {
          acc.text += next;
          this.pos += 2;
          continue;
        }
        acc.text += '\\';
        this.pos++;
        continue;
      }
      if (c === '$') {
        if (!this.readDollar(acc, true)) {
          acc.text += '$';
          this.pos++;
        }
        continue;
      }
      if (c === '`') {
        this.readBackticks(acc, !toEnd);
        continue;
      }
      acc.text += c;
      this.pos++;
    }
  }

  /** An expansion starting with `$`; false when the `$` is literal. */
  private readDollar(acc: { text: string; dynamic: boolean }, inDoubleQuotes: boolean): boolean {
    const src = this.src;
    const at = this.pos;
    const next = src[this.pos + 1];
    if (next === '(') {
      this.pos += 2;
      this.parseParenthesized({ kind: 'paren', arithmetic: undefined });
    } else if (next === '{') {
      this.pos += 2;
      this.readParameterExpansion(inDoubleQuotes);
    } else if (next !== undefined && (isNameStart(next) || (next >= '0' && next <= '9'))) {
      this.pos += 2;
      if (isNameStart(next)) while (isNameChar(src[this.pos] ?? '')) this.pos++;
    } else if (next !== undefined && SPECIAL_PARAMETERS.has(next)) {
      this.pos += 2;
    } else {
      return false;
    }
    acc.text += src.slice(at, this.pos);
    acc.dynamic = true;
    return true;
  }

  /** After `${`: up to the matching `}`, reading the expansions nested in it. */
  private readParameterExpansion(inDoubleQuotes: boolean): void {
    this.enter();
    const src = this.src;
    const scratch = { text: '', dynamic: false };
    for (;;) {
      const c = src[this.pos];
      if (c === undefined) this.fail('unterminated ${');
      if (c === '}') {
        this.pos++;
        break;
      }
      if (c === '\\') {
        this.pos += 2;
      } else if (c === "'" && !inDoubleQuotes) {
        const end = src.indexOf("'", this.pos + 1);
        if (end === -1) this.fail('unterminated single quote');
        this.pos = end + 1;
      } else if (c === '"') {
        this.pos++;
        this.readDoubleQuoted(scratch, true, false);
      } else if (c === '$') {
        if (!this.readDollar(scratch, inDoubleQuotes)) this.pos++;
      } else if (c === '`') {
        this.readBackticks(scratch, inDoubleQuotes);
      } else {
        this.pos++;
      }
    }
    this.leave();
  }

  /** At a back-tick: the command inside, with `\\`, `` \` `` and `\$` unescaped, read as a script. */
  private readBackticks(acc: { text: string; dynamic: boolean }, inDoubleQuotes: boolean): void {
    const src = this.src;
    const at = this.pos;
    let inner = '';
    let i = this.pos + 1;
    for (;;) {
      const c = src[i];
      if (c === undefined) this.fail('unterminated back-tick');
      if (c === '`') break;
      if (c === '\\') {
        const next = src[i + 1];
        if (next === '\\' || next === '`' || next === '$' || (next === '"' && inDoubleQuotes)) {
          inner += next;
          i += 2;
          continue;
        }
      }
      inner += c;
      i++;
    }
    this.pos = i + 1;
    this.parseNested(inner, false);
    acc.text += src.slice(at, this.pos);
    acc.dynamic = true;
  }

  /** After `$'`: ANSI-C quoting, decoded. */
  private readAnsiC(): string {
    const src = this.src;
    let text = '';
    for (;;) {
      const c = src[this.pos];
      if (c === undefined) this.fail("unterminated $'");
      if (c === "'") {
        this.pos++;
        return text;
      }
      if (c !== '\\') {
        text += c;
        this.pos++;
        continue;
      }
      const e = src[this.pos + 1];
      if (e === undefined) this.fail("unterminated $'");
      this.pos += 2;
      const simple = ANSI_C[e];
      if (simple !== undefined) {
        text += simple;
      } else if (e >= '0' && e <= '7') {
        let digits = e;
        while (digits.length < 3 && isOctal(src[this.pos])) digits += src[this.pos++];
        text += String.fromCharCode(Number.parseInt(digits, 8) & 0xff);
      } else if (e === 'x' || e === 'u' || e === 'U') {
        const max = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        let digits = '';
        while (digits.length < max && isHex(src[this.pos])) digits += src[this.pos++];
        if (digits === '') text += `\\${e}`;
        else {
          const code = Number.parseInt(digits, 16);
          text += code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
        }
      } else if (e === 'c') {
        const control = src[this.pos];
        if (control === undefined) this.fail("unterminated $'");
        this.pos++;
        text += String.fromCharCode(control.charCodeAt(0) & 0x1f);
      } else {
        text += `\\${e}`;
      }
    }
  }

  /** At `(` after `@ ! * + ?` inside a word: an extglob pattern, kept as text. */
  private readExtglob(acc: { text: string; dynamic: boolean }): void {
    const src = this.src;
    let depth = 0;
    for (;;) {
      const c = src[this.pos];
      if (c === undefined || c === '\n') this.fail('unterminated extglob pattern');
      if (c === '\\') {
        acc.text += src.slice(this.pos, this.pos + 2);
        this.pos += 2;
        continue;
      }
      if (c === "'" || c === '"') {
        const end = src.indexOf(c, this.pos + 1);
        if (end === -1) this.fail('unterminated quote');
        acc.text += src.slice(this.pos + 1, end);
        this.pos = end + 1;
        continue;
      }
      if (c === '$' && this.readDollar(acc, false)) continue;
      if (c === '`') {
        this.readBackticks(acc, false);
        continue;
      }
      acc.text += c;
      this.pos++;
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return;
    }
  }

  // ---- Commands ----

  /** A simple command, then each command it wraps (`sudo rm` is sudo, then rm). */
  private emit(words: Word[], writes: readonly Word[], frame: Frame): void {
    const targets = writes.map(shellWord);
    // Each wrapper is a level of nesting: `sudo sudo … rm` must not cost the square of its length.
    const queue: { words: readonly Word[]; level: number }[] = [{ words, level: 0 }];
    while (queue.length > 0) {
      const { words: current, level } = queue.pop()!;
      if (this.depth + this.nesting + level > MAX_SHELL_DEPTH) {
        this.fail(`the command nests deeper than ${MAX_SHELL_DEPTH} levels`);
      }
      const record = this.record(current, targets, frame);
      this.shared.records.push(record);
      this.wrapperLevel = level;
      const inner = unwrapCommand(record.program.toLowerCase(), current, record, this);
      this.wrapperLevel = 0;
      for (const next of inner) if (next.length > 0) queue.push({ words: next, level: level + 1 });
    }
  }

  private record(words: readonly Word[], targets: ShellWord[], frame: Frame): CommandRecord {
    const first = words[0]!;
    const slash = first.text.lastIndexOf('/');
    const last = words.at(-1)!;
    const text = last.end > first.start ? this.src.slice(first.start, last.end) : '';
    return {
      program: slash === -1 ? first.text : first.text.slice(slash + 1),
      programUnknown: first.dynamic || first.glob,
      args: words.slice(1).map(shellWord),
      piped: false,
      pipedFromCommand: false,
      writesTo: targets,
      hostAccess: false,
      text: text === '' ? words.map((word) => word.text).join(' ') : text,
      stdinScript: false,
      arithmetic: frame.arithmetic,
    };
  }

  private emitRedirectionOnly(writes: readonly Word[], frame: Frame | undefined): void {
    const first = writes[0]!;
    this.shared.records.push({
      program: '',
      programUnknown: false,
      args: [],
      piped: false,
      pipedFromCommand: false,
      writesTo: writes.map(shellWord),
      hostAccess: false,
      text: this.src.slice(first.start, writes.at(-1)!.end),
      stdinScript: false,
      arithmetic: frame?.arithmetic,
    });
  }

  // ---- WrapperHost: what shell-wrappers.ts asks of the reader ----

  /** A command that could be anything: a script or program only known at run time. */
  emitUnknown(word: ShellWord, writes: readonly WrittenPath[]): void {
    this.shared.records.push({
      program: word.text,
      programUnknown: true,
      args: [],
      piped: false,
      pipedFromCommand: false,
      writesTo: [...writes],
      hostAccess: false,
      text: word.text,
      stdinScript: false,
      arithmetic: undefined,
    });
  }

  /** Reads a script found in the command line (`sh -c '…'`, `eval …`), one level deeper. */
  parseNested(script: string, expandInSingleQuotes: boolean): void {
    new Parser(
      script,
      this.depth + this.nesting + this.wrapperLevel + 1,
      this.shared,
      expandInSingleQuotes,
    ).parseScript();
  }

  // ---- Characters ----

  private skipBlanks(comments: boolean): void {
    const src = this.src;
    for (;;) {
      const c = src[this.pos];
      if (c === ' ' || c === '\t') this.pos++;
      else if (c === '\\' && src[this.pos + 1] === '\n') this.pos += 2;
      else if (c === '#' && comments) this.skipComment();
      else return;
    }
  }

  /** Blanks, comments and newlines (reading any here-documents due at each newline). */
  private skipSpace(): void {
    for (;;) {
      this.skipBlanks(true);
      if (this.src[this.pos] !== '\n') return;
      this.pos++;
      this.readHereDocuments();
    }
  }

  private skipComment(): void {
    const newline = this.src.indexOf('\n', this.pos);
    this.pos = newline === -1 ? this.src.length : newline;
  }

  private isWordEnd(i: number): boolean {
    const c = this.src[i];
    return c === undefined || META.has(c);
  }

  private atProcessSubstitution(): boolean {
    const c = this.src[this.pos];
    return (c === '<' || c === '>') && this.src[this.pos + 1] === '(';
  }

  private peekKeyword(word: string): boolean {
    return this.src.startsWith(word, this.pos) && this.isWordEnd(this.pos + word.length);
  }

  private peekName(): string | undefined {
    let i = this.pos;
    if (!isNameStart(this.src[i] ?? '')) return undefined;
    while (isNameChar(this.src[i] ?? '')) i++;
    return this.src.slice(this.pos, i);
  }

  /** A reserved word at the current position, unquoted and complete, if there is one. */
  private peekReserved(): string | undefined {
    const src = this.src;
    const c = src[this.pos];
    const blankAfter = (i: number) => {
      const after = src[i];
      return after === undefined || after === ' ' || after === '\t' || after === '\n';
    };
    if (c === '!' && blankAfter(this.pos + 1)) return '!';
    if (c === '{' && blankAfter(this.pos + 1)) return '{';
    if (c === '}' && this.isWordEnd(this.pos + 1)) return '}';
    if (c === '[' && src[this.pos + 1] === '[' && blankAfter(this.pos + 2)) return '[[';
    let i = this.pos;
    while (i - this.pos < 8 && (src[i] ?? '') >= 'a' && (src[i] ?? '') <= 'z') i++;
    if (i === this.pos || !this.isWordEnd(i)) return undefined;
    const word = src.slice(this.pos, i);
    return RESERVED.has(word) ? word : undefined;
  }

  /** At `(` of `name()`: consumes `( )`. */
  private expectEmptyParens(): void {
    this.pos++;
    this.skipBlanks(false);
    if (this.src[this.pos] !== ')') this.fail('expected ")" in a function definition');
    this.pos++;
  }
}

const FRAME_NAMES: Readonly<Record<FrameKind, string>> = {
  root: 'command',
  paren: 'parenthesis',
  brace: '{ group',
  if: 'if',
  loop: 'loop',
  case: 'case',
  arith: 'parenthesis',
};

const CLOSERS: Readonly<Record<FrameKind, string | undefined>> = {
  root: undefined,
  paren: undefined,
  brace: '}',
  if: 'fi',
  loop: 'done',
  case: 'esac',
  arith: undefined,
};

const ANSI_C: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  e: '\x1b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

/** A word that does not name the program when dash reads it first: `!`, `then`, `X=1`, … */
function isPrefixWord(word: Word): boolean {
  if (word.assignment) return true;
  if (word.quoted || word.dynamic) return false;
  return word.text === '!' || word.text === '{' || word.text === '}' || RESERVED.has(word.text);
}

/** The record at `index` makes the text of the stage's here-string or here-document. */
function isProducer(stage: Stage, index: number): boolean {
  const ranges = stage.producers;
  for (let i = 0; i < ranges.length; i += 2) {
    if (index >= ranges[i]! && index < ranges[i + 1]!) return true;
  }
  return false;
}

/** The characters of a login name in a tilde prefix, and bash's `+` and `-`. */
const TILDE_NAME = /^[A-Za-z0-9._+-]$/;

function shellWord(word: ShellWord): ShellWord {
  return { text: word.text, dynamic: word.dynamic };
}

function isDescriptor(text: string): boolean {
  if (text === '-') return true;
  const digits = text.endsWith('-') ? text.slice(0, -1) : text;
  if (digits === '') return false;
  for (const c of digits) if (c < '0' || c > '9') return false;
  return true;
}

function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isNameChar(c: string): boolean {
  return isNameStart(c) || (c >= '0' && c <= '9');
}

function isName(text: string): boolean {
  if (text === '' || !isNameStart(text[0]!)) return false;
  for (const c of text) if (!isNameChar(c)) return false;
  return true;
}

/** What precedes `=` in `NAME=`, `NAME+=` or `NAME[index]=`. */
function isAssignmentName(text: string): boolean {
  const name = text.endsWith('+') ? text.slice(0, -1) : text;
  const bracket = name.indexOf('[');
  return isName(bracket !== -1 && name.endsWith(']') ? name.slice(0, bracket) : name);
}

function isOctal(c: string | undefined): c is string {
  return c !== undefined && c >= '0' && c <= '7';
}

function isHex(c: string | undefined): c is string {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}
