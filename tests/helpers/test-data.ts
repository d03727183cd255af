// The browser's test splits in static/data/, built when missing (scripts/build-data.ts skips
// files that are already complete, so this is cheap to call from every page test).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { datasets } from '../../src/lib/data/datasets';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function ensureTestData(): void {
  if (Object.values(datasets).every((d) => existsSync(`${root}static/data/${d.testFile}`))) return;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-data.ts'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/build-data.ts failed (${r.status}): ${r.stderr || r.stdout}`);
}
