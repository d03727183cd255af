// A training worker thread starts here: TypeScript through tsx, as bin/farmer.mjs does.
import { register } from 'tsx/esm/api';
register();
await import('./train-worker.ts');
