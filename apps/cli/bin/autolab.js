#!/usr/bin/env node
// The CLI is TypeScript run through tsx (no build step): register the loader, then load the entry.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
