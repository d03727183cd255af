// Node-only: any known dataset by name and split, from the npm data packages.
import type { LabelledSet } from './binfile';
import { colorize, coloredMnistSeeds } from './colored';
import { datasetInfo } from './datasets';
import { loadMnist, type Split } from './mnist-node';

export function loadDataset(name: string, split: Split): LabelledSet {
  const info = datasetInfo(name);
  const mnist = loadMnist(split);
  const set = info.name === 'colored-mnist' ? colorize(mnist, coloredMnistSeeds[split]) : mnist;
  return { ...set, numClasses: info.numClasses };
}
