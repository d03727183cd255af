// Vitest global setup: the browser's test-split files (static/data/*.bin, git-ignored) must
// exist before the page tests run; scripts/build-data.ts writes them from the npm data package.
import { ensureTestData } from '../helpers/test-data';

export default function setup(): void {
  ensureTestData();
}
