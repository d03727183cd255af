// Node-only code lives under src/node/ (and the command line under src/cli/): no other source
// file may import a Node built-in or a file under src/node/, so the app and the worker never pull
// them into a browser bundle.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const src = join(root, 'src');
const nodeDir = join(src, 'node');
const allowed = [nodeDir, join(src, 'cli')];
const builtins = new Set(builtinModules);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs|svelte)$/.test(e.name) ? [path] : [];
  });
}

/** Every module a file names in an import, an export … from, or a dynamic import of a literal. */
function importedSpecifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`]([^'"`]+)['"`]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]);
  return found;
}

/** Why `specifier`, imported by `file`, crosses the boundary; null when it does not. */
function boundaryViolation(file: string, specifier: string): string | null {
  if (specifier.startsWith('node:') || builtins.has(specifier.split('/')[0]))
    return `imports the Node built-in "${specifier}"`;
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    if (target === nodeDir || target.startsWith(nodeDir + '/'))
      return `imports ${relative(root, target)} from src/node/`;
  }
  return null;
}

describe('the Node boundary', () => {
  it('finds imports of every form', () => {
    const text = `import a from 'node:fs';\nimport { b,\n  c } from "./x";\nexport { d } from './y';\nimport './z.css';\nconst m = await import('../w');`;
    expect(importedSpecifiers(text)).toEqual(['node:fs', './x', './y', './z.css', '../w']);
    expect(boundaryViolation(join(src, 'lib/io/a.ts'), 'fs/promises')).toMatch(/Node built-in/);
    expect(boundaryViolation(join(src, 'lib/io/a.ts'), '../../node/files')).toMatch(/src\/node\/files/);
    expect(boundaryViolation(join(src, 'lib/io/a.ts'), './node-files')).toBeNull();
    expect(boundaryViolation(join(src, 'lib/io/a.ts'), '@tensorflow/tfjs')).toBeNull();
  });

  it('no file outside src/node/ and src/cli/ imports a Node built-in or src/node/', () => {
    const violations: string[] = [];
    for (const file of sourceFiles(src)) {
      if (allowed.some((dir) => file.startsWith(dir + '/'))) continue;
      for (const specifier of importedSpecifiers(readFileSync(file, 'utf8'))) {
        const why = boundaryViolation(file, specifier);
        if (why) violations.push(`${relative(root, file)} ${why}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
