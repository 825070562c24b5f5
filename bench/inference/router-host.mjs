// Hosts the real router (services/router) alone in its own process, over a SQLite store whose services point
// at the benchmark's backends — the data-plane path of `npm start` without the control plane beside it.
// argv: <db path> <jwt secret> [queue budget ms] (default: the router's). Prints {"event":"listening","port":N}.
import http from 'node:http';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { openSqliteStore } from '@remotegpu/store';
import { InProcessBus } from '@remotegpu/bus';
import { hs256Verifier } from '@remotegpu/auth';
import { createRouter } from '@remotegpu/router';

const [dbPath, secret, queueBudget] = process.argv.slice(2);
const store = openSqliteStore({ path: dbPath });
const logger = pino({ level: 'warn' });
const router = createRouter({
  store,
  bus: new InProcessBus(),
  verifier: hs256Verifier(secret),
  logger,
  metrics: new Registry(),
  ...(queueBudget ? { queueBudgetMs: Number(queueBudget) } : {}),
});
await router.start();
const server = http.createServer((req, res) => router.handle(req, res));
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.address().port })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
