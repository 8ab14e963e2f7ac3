import os from 'node:os';
import path from 'node:path';
import { ConfigError, ServiceUnreachableError, loadConfig } from '@lorekeeper/config';
import { isLorekeeperError } from '@lorekeeper/domain';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { DemoOptions } from './demo/demo';
import { runDemo } from './demo/demo';
import { formatSummary } from './demo/format';

/** `npm run demo`: the simulated game against the real services, ending with a verified summary. */
function buildProgram(run: (options: DemoOptions, json: boolean) => Promise<void>): Command {
  return new Command('demo')
    .description(
      'Play a generated campaign with simulated game servers against the real Lorekeeper services, then\n' +
        'save, end the session and verify that Postgres equals the fold of the event log.',
    )
    .option('-d, --duration <seconds>', 'how long the game servers play', count(1), 30)
    .option('-p, --players <n>', 'players in the world, all in the session', count(1), 24)
    .option('-r, --rate <actions/s>', 'player actions per second over all game servers', count(1), 200)
    .option(
      '-s, --servers <n>',
      'game servers sharing the campaign (each its own NATS connection)',
      count(1),
      3,
    )
    .option('--regions <n>', 'regions in the generated world', count(1), 40)
    .option('--npcs <n>', 'NPCs in the generated world', count(0), 120)
    .option('--items <n>', 'items in the generated world', count(0), 400)
    .option('--quests <n>', 'quests in the generated world', count(0), 80)
    .option('--seed <n>', 'seed of the world and of every player choice (same seed, same game)', count(0), 1)
    .option('--campaign <id>', 'campaign id (default: demo-<seed>-<time>)')
    .option('--no-start', 'do not start the session service and worker; fail when they are not running')
    .option('--json', 'print the summary as one JSON document on stdout (progress stays on stderr)')
    .addHelpText(
      'after',
      `
Needs Redis, PostgreSQL and NATS (REDIS_URL, DATABASE_URL, NATS_URL; the standard local ports by
default). When one does not answer and Docker is installed, the demo runs \`docker compose up -d\`.
It migrates the database, and starts the session service and the persistence worker itself (logs
under the temp directory) unless they are already running.

Exit codes: 0 verified, 1 verification failed or the run failed, 2 bad options, 3 a service unreachable.

Examples:
  $ npm run demo
  $ npm run demo -- --duration 10 --players 200 --rate 1000 --servers 4
  $ npm run demo -- --seed 7 --json | jq .verification`,
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .action(async (raw: Record<string, unknown>) => {
      const seed = raw['seed'] as number;
      const options: DemoOptions = {
        durationSeconds: raw['duration'] as number,
        players: raw['players'] as number,
        rate: raw['rate'] as number,
        servers: Math.min(raw['servers'] as number, raw['players'] as number),
        regions: raw['regions'] as number,
        npcs: raw['npcs'] as number,
        items: raw['items'] as number,
        quests: raw['quests'] as number,
        seed,
        campaignId: (raw['campaign'] as string | undefined) ?? `demo-${seed}-${Date.now().toString(36)}`,
        startServices: raw['start'] !== false,
        logDir: path.join(os.tmpdir(), 'lorekeeper-demo'),
        progress: process.stderr.isTTY ? 'tty' : 'lines',
      };
      await run(options, raw['json'] === true);
    });
}

function count(min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed < min)
      throw new InvalidArgumentError(`expected a whole number of at least ${min}, got "${value}"`);
    return parsed;
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const say = (line: string) => process.stderr.write(`demo: ${line}\n`);
  const program = buildProgram(async (options, json) => {
    const summary = await runDemo(options, loadConfig(), say);
    process.stdout.write(json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
    if (!summary.ok) process.exitCode = 1;
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = error instanceof ServiceUnreachableError ? 3 : error instanceof ConfigError ? 2 : 1;
    const message = isLorekeeperError(error)
      ? `${error.code}: ${error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
    process.stderr.write(`demo: ${message}\n`);
  }
}

void main(process.argv);
