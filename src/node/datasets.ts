// Any known dataset by name and split, from the npm data packages.
import type { LabelledSet } from '../lib/data/binfile';
import { colorize, coloredMnistSeeds } from '../lib/data/colored';
import { datasetInfo } from '../lib/data/datasets';
import { loadMnist, type Split } from './mnist';

export function loadDataset(name: string, split: Split): LabelledSet {
  const info = datasetInfo(name);
  const mnist = loadMnist(split);
  const set = info.name === 'colored-mnist' ? colorize(mnist, coloredMnistSeeds[split]) : mnist;
  return { ...set, numClasses: info.numClasses };
}
