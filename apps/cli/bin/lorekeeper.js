#!/usr/bin/env node
'use strict';
// Thin launcher so `npx lorekeeper` works from the repository root; the CLI itself is compiled TypeScript.
const path = require('node:path');
const main = path.join(__dirname, '..', 'dist', 'main.js');
try {
  require.resolve(main);
} catch {
  process.stderr.write('lorekeeper: the CLI is not built yet. Run `npm run build` first.\n');
  process.exit(2);
}
require(main);
