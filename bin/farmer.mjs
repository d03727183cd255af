#!/usr/bin/env node
// Entry point of `npx farmer`: runs the TypeScript command line through tsx, no build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
