#!/usr/bin/env node
// The bin is this committed file, not dist/main.js: npm links bins at install time, before `npm run build`
// has produced dist/, and tsc does not set the executable bit on what it emits.
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv);
