#!/usr/bin/env node
// The published entry point: the compiled CLI (npm ci / npm run build produce dist/).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err?.stack ?? String(err)); process.exitCode = 1; },
);
