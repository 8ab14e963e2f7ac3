#!/usr/bin/env node
'use strict';
// `npm start`: migrate the database, then run the session service and the persistence worker side by
// side until Ctrl-C (or SIGTERM), which each of them handles gracefully.
const { spawn, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const services = [
  { name: 'session-service', main: path.join(root, 'apps/session-service/dist/main.js') },
  { name: 'persistence-worker', main: path.join(root, 'apps/persistence-worker/dist/main.js') },
];

const built = services.filter((s) => existsSync(s.main));
if (built.length === 0 || !existsSync(path.join(root, 'apps/cli/dist/main.js'))) {
  console.error('start: the services are not built yet. Run `npm run build` first.');
  process.exit(1);
}
// libs/config/src/process-env.ts: why the services run with a fixed malloc mmap threshold.
const { withMallocTunables } = require(path.join(root, 'libs/config/dist'));

for (const s of services)
  if (!built.includes(s)) console.error(`start: ${s.name} is not built; starting without it`);

const migrate = spawnSync(process.execPath, [path.join(root, 'apps/cli/bin/lorekeeper.js'), 'migrate'], {
  stdio: 'inherit',
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const children = built.map(({ name, main }) => {
  const child = spawn(process.execPath, [main], { stdio: 'inherit', env: withMallocTunables(process.env) });
  child.on('exit', (code, signal) => {
    console.error(`start: ${name} exited (${signal ?? code})`);
    shutdown('SIGTERM', code ?? 1);
  });
  return child;
});

let stopping = false;
function shutdown(signal, code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
  const waitAll = children.map(
    (child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve))),
  );
  Promise.all(waitAll).then(() => process.exit(code));
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
