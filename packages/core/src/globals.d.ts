// The WHATWG URL parser is a language-level global in every runtime Kvlar supports (Node.js,
// browsers, Deno, Bun); core uses it to canonicalise hosts. Declared here rather than pulling in
// the DOM or Node type libraries, which would make timers and I/O look available to pure code.
declare class URL {
  constructor(input: string);
  readonly hostname: string;
}
