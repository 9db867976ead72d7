import { describe, expect, it } from 'vitest';
import { splitEnvString } from './env-split.js';

/** The words env makes of the string, `$` marking run-time words; `undefined` if env refuses it. */
function split(text: string): string[] | undefined {
  return splitEnvString(text)?.map((word) => (word.dynamic ? `$[${word.text}]` : word.text));
}

describe('splitEnvString', () => {
  it('splits on spaces, tabs, newlines, \\v, \\f and \\r, and on \\_ outside double quotes', () => {
    expect(split('rm  -rf\t/')).toEqual(['rm', '-rf', '/']);
    expect(split('rm\n-rf\v/\f\rx')).toEqual(['rm', '-rf', '/', 'x']);
    expect(split('rm\\_-rf\\_\\_/')).toEqual(['rm', '-rf', '/']);
    expect(split('"a\\_b"')).toEqual(['a b']);
  });

  it("keeps quoted text whole, with only \\\\ and \\' escaped in single quotes", () => {
    expect(split(`'a b' "c d"e`)).toEqual(['a b', 'c de']);
    expect(split(`'a\\'b\\\\c\\n'`)).toEqual(["a'b\\c\\n"]);
    expect(split(`"a\\tb\\"c"`)).toEqual(['a\tb"c']);
    expect(split(`'' x`)).toEqual(['', 'x']);
    expect(split(`"it's" '"'`)).toEqual(["it's", '"']);
  });

  it('ends the string at \\c, or at # starting a word', () => {
    expect(split('rm\\c -rf /')).toEqual(['rm']);
    expect(split('echo a # rm -rf /')).toEqual(['echo', 'a']);
    expect(split('echo a#b')).toEqual(['echo', 'a#b']);
    expect(split('#!x')).toEqual([]);
  });

  it('marks a word holding a braced variable as only known at run time, but not in single quotes', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: env syntax, not a template
    expect(split('a${HOME}b c')).toEqual(['$[a${HOME}b]', 'c']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: env syntax, not a template
    expect(split('"${X}"')).toEqual(['$[${X}]']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: env syntax, not a template
    expect(split("'${X}'")).toEqual(['${X}']);
  });

  it('refuses what env refuses: unknown escapes, other $ forms, \\c in double quotes, open quotes', () => {
    expect(split('rm \\q')).toBeUndefined();
    expect(split('rm \\')).toBeUndefined();
    expect(split('echo $HOME')).toBeUndefined();
    expect(split('echo $(id)')).toBeUndefined();
    // biome-ignore lint/suspicious/noTemplateCurlyInString: env syntax, not a template
    expect(split('echo ${1}')).toBeUndefined();
    expect(split('"a\\c"')).toBeUndefined();
    expect(split(`'open`)).toBeUndefined();
    expect(split(`"open`)).toBeUndefined();
  });
});
