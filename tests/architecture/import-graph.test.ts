// No import cycles in src/, and no layer importing one above it (docs/architecture.md, "Layers").
// The graph is read with TypeScript's own parser: every static import and
// re-export, and every dynamic import(), of a relative module is an edge; `import type` and
// `export type` are not (they are erased), but `import { type A }` is (verbatimModuleSyntax keeps
// the import). Svelte components count through their <script> blocks. The detector is checked on
// a small graph of its own first, so the test cannot pass by reading nothing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SOURCE = /\.(ts|svelte)$/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : SOURCE.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The module specifiers `file` imports at run time. */
function runtimeImports(file: string): string[] {
  let text = readFileSync(file, 'utf8');
  if (file.endsWith('.svelte'))
    text = [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly)
      out.push((node.moduleSpecifier as ts.StringLiteral).text);
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly)
      out.push((node.moduleSpecifier as ts.StringLiteral).text);
    else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      ts.isStringLiteral(node.arguments[0])
    )
      out.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  return out;
}

/** A relative specifier as the file it names (Vite's and tsx's resolution: extension optional). */
function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.svelte.ts`, join(base, 'index.ts')])
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return null;
}

/** file → the files it imports at run time */
function importGraph(root: string): Map<string, string[]> {
  return new Map(files(root).map((f) => [f, runtimeImports(f).flatMap((s) => resolveImport(f, s) ?? [])]));
}

/** Every cycle's files, one per strongly connected component with more than one file (or a self-import). */
export function importCycles(root: string): string[][] {
  const graph = importGraph(root);
  const index = new Map<string, number>(),
    low = new Map<string, number>(),
    stack: string[] = [],
    onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const strongConnect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(relative(root, w));
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) strongConnect(v);
  return cycles;
}

describe('import graph', () => {
  it('the detector finds value, re-export and dynamic cycles, and ignores type-only ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
    const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
    write('a.ts', "import { b } from './b';\nexport const a = b;\n");
    write('b.ts', "import { type A } from './c';\nexport const b = 1;\n");
    write('c.ts', "export type A = number;\nexport * from './a';\n");
    write('d.ts', "import type { E } from './e';\nexport type D = E;\n");
    write('e.ts', "import type { D } from './d';\nexport type E = D;\n");
    write('f.ts', "export const f = () => import('./g');\n");
    write('g.ts', "import { f } from './f';\nexport const g = f;\n");
    write('h.ts', 'export const h = 1;\n');
    expect(importCycles(dir).sort()).toEqual([
      ['a.ts', 'b.ts', 'c.ts'],
      ['f.ts', 'g.ts'],
    ]);
  });

  const root = join(import.meta.dirname, '../../src');

  it('src/ has no import cycles', () => {
    expect(files(root).length).toBeGreaterThan(100);
    expect(importCycles(root)).toEqual([]);
  });

  it('no layer imports one above it: engine < figures < experiments < runtime < notebook pages < app', () => {
    const engine = ['lib/util', 'lib/nn', 'lib/tf', 'lib/farmer', 'lib/data', 'lib/io', 'lib/metrics', 'lib/train'];
    const order = [engine, ['lib/plots'], ['lib/experiments'], ['lib/runtime'], ['notebooks'], ['app']];
    const rank = (file: string) => order.findIndex((dirs) => dirs.some((d) => file.startsWith(`${d}/`)));
    const upward: string[] = [];
    for (const [file, imports] of importGraph(root)) {
      const from = relative(root, file),
        r = rank(from);
      if (r < 0) continue; // src/node and src/cli sit outside the page's layers
      for (const target of imports) {
        const to = relative(root, target);
        if (rank(to) > r) upward.push(`${from} → ${to}`);
      }
    }
    expect(upward).toEqual([]);
  });
});
