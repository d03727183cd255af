// The datasets the workbench knows, and their browser loader (browser-safe).
import { parseDatasetBin, type LabelledSet } from './binfile';
import { colorize, coloredMnistSeeds } from './colored';

export type DatasetName = 'mnist' | 'colored-mnist';

export interface DatasetInfo {
  name: DatasetName;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  /** the file scripts/build-data.ts writes into static/data/ (test split) */
  testFile: string;
}

export const datasets: Record<DatasetName, DatasetInfo> = {
  mnist: { name: 'mnist', height: 28, width: 28, channels: 1, numClasses: 10, testFile: 'mnist-test.bin' },
  'colored-mnist': {
    name: 'colored-mnist',
    height: 28,
    width: 28,
    channels: 3,
    numClasses: 10,
    testFile: 'colored-mnist-test.bin',
  },
};

export function datasetInfo(name: string): DatasetInfo {
  const info = (datasets as Record<string, DatasetInfo>)[name];
  if (!info) throw new Error(`unknown dataset "${name}" (known: ${Object.keys(datasets).join(', ')})`);
  return info;
}

/**
 * Fetches a test split built into static/data/ (served at `baseUrl`, `/data/` when `static/` is
 * the public folder). Colored MNIST can instead be derived locally from the MNIST file with
 * `derive: true` (a third of the download).
 */
export async function fetchTestSet(
  name: DatasetName,
  { baseUrl = '/data/', derive = false, fetchFn = fetch } = {},
): Promise<LabelledSet> {
  const file = name === 'colored-mnist' && derive ? datasets.mnist.testFile : datasets[name].testFile;
  const url = baseUrl + file;
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (e) {
    throw new Error(`${url}: ${(e as Error).message}`);
  }
  if (!response.ok)
    throw new Error(`${url}: HTTP ${response.status} (build it with \`npx tsx scripts/build-data.ts\`)`);
  const set = parseDatasetBin(new Uint8Array(await response.arrayBuffer()), url);
  if (name === 'colored-mnist' && derive)
    return { ...colorize(set, coloredMnistSeeds.test), numClasses: set.numClasses };
  const info = datasets[name];
  if (set.height !== info.height || set.width !== info.width || set.channels !== info.channels)
    throw new Error(
      `${url}: images are ${set.height}×${set.width}×${set.channels}, expected ${info.height}×${info.width}×${info.channels}`,
    );
  return set;
}
