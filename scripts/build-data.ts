// Writes the test splits the browser loads into static/data/ (git-ignored, derived from npm packages).
// Run: npx tsx scripts/build-data.ts [--force]
// A file already there with the size its header declares is kept (a re-run takes well under a
// second); --force rebuilds every file. `npm run dev` and `npm run build` run this first.
import { closeSync, mkdirSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeDatasetBin } from '../src/lib/data/binfile';
import { datasets, type DatasetName } from '../src/lib/data/datasets';
import { loadDataset } from '../src/node/datasets';

/** The file exists, starts with the dataset header and has the length that header declares. */
function complete(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const header = Buffer.alloc(32);
    if (readSync(fd, header, 0, 32, 0) !== 32 || header.toString('latin1', 0, 4) !== 'FWDS') return false;
    const [n, h, w, c] = [8, 12, 16, 20].map((o) => header.readUInt32LE(o));
    return statSync(path).size === 32 + n * h * w * c + n;
  } finally {
    closeSync(fd);
  }
}

const force = process.argv.includes('--force');
const outDir = new URL('../static/data/', import.meta.url);
mkdirSync(outDir, { recursive: true });
for (const name of Object.keys(datasets) as DatasetName[]) {
  const file = new URL(datasets[name].testFile, outDir);
  if (!force && complete(fileURLToPath(file))) {
    console.log(`${file.pathname}: already built (--force rebuilds it)`);
    continue;
  }
  const set = loadDataset(name, 'test');
  const bytes = encodeDatasetBin(set, set.numClasses);
  writeFileSync(file, bytes);
  console.log(
    `${file.pathname}: ${set.n} images ${set.height}×${set.width}×${set.channels}, ${(bytes.length / 1e6).toFixed(1)} MB`,
  );
}
