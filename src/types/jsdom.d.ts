// The part of jsdom's API this project uses (`farmer reproduce` renders Plot figures into it);
// the package ships no type declarations.
declare module 'jsdom' {
  export class JSDOM {
    constructor(html?: string, options?: Record<string, unknown>);
    readonly window: Window & typeof globalThis;
    serialize(): string;
  }
}
