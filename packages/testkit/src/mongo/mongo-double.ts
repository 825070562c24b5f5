import { createServer, type Server, type Socket } from 'node:net';
import type { Document } from 'bson';
import { HELLO_COMMANDS, runCommand, type CommandOutcome } from './mongo-commands.js';
import { MongoCode, MongoCommandError } from './mongo-errors.js';
import { MongoState } from './mongo-state.js';
import { decodeMessage, encodeOpMsgReply, encodeOpReply, MessageFramer, type OpMsgRequest, type OpQueryRequest } from './mongo-wire.codec.js';

export interface MongoDoubleOptions {
  /** 0 (default) picks a free port; `restart()` always comes back on the port it had. */
  port?: number;
  host?: string;
  /** How often the TTL monitor runs (mongod: every 60 s). */
  ttlMonitorIntervalMs?: number;
  /** The clock of TTL expiry and `hello.localTime`; tests may pass a fake one. */
  now?: () => Date;
}

export interface MongoDoubleRestartOptions {
  /** Keep the databases across the restart (default), or come back empty as a server that lost its data. */
  keepData?: boolean;
}

export interface MongoDouble {
  /** `mongodb://host:port` — append `/<database>` and options. */
  readonly uri: string;
  readonly port: number;
  readonly running: boolean;
  /** Every command refused as not implemented since start, as `name: message` (a test asserts none). */
  readonly refused: readonly string[];
  /** Handler failures (defects of the double); each was answered with InternalError. */
  readonly internalErrors: readonly Error[];
  /** How many times each command name was received. */
  readonly commandCounts: ReadonlyMap<string, number>;
  /** Closes the listener and every connection, as a clean mongod shutdown does; data is kept for `restart()`. */
  stop(): Promise<void>;
  /** Resets every connection at once (TCP RST) and stops listening, as a crash would. */
  kill(): Promise<void>;
  /** Stops if running, then listens again on the same port. */
  restart(options?: MongoDoubleRestartOptions): Promise<void>;
  /** Runs the TTL monitor now; returns how many documents it removed. */
  sweepTtl(): number;
}

/**
 * Starts a MongoDB wire-protocol test double: a TCP server that speaks OP_MSG (and answers the legacy OP_QUERY
 * `isMaster` a driver sends first), keeps databases in memory, matches and updates documents with mingo, and
 * enforces unique, partial-unique and TTL indexes with mongod's errors. It refuses every command and option it
 * does not implement by name, so a client cannot depend on one unnoticed. It is a test double, not a database:
 * one process, no durability, no authentication, no transactions (like a standalone mongod).
 */
export async function startMongoDouble(options: MongoDoubleOptions = {}): Promise<MongoDouble> {
  const double = new WireDouble(options);
  await double.listen(options.port ?? 0);
  return double;
}

class WireDouble implements MongoDouble {
  readonly refused: string[] = [];
  readonly internalErrors: Error[] = [];
  readonly commandCounts = new Map<string, number>();
  private readonly state: MongoState;
  private readonly host: string;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private ttlTimer: NodeJS.Timeout | undefined;
  private nextConnectionId = 1;
  private nextRequestId = 1;
  port = 0;

  constructor(private readonly options: MongoDoubleOptions) {
    this.state = new MongoState(options.now ?? (() => new Date()));
    this.host = options.host ?? '127.0.0.1';
  }

  get uri(): string {
    return `mongodb://${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async listen(port: number): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: this.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    this.ttlTimer = setInterval(() => this.state.sweepTtl(), this.options.ttlMonitorIntervalMs ?? 60_000);
    this.ttlTimer.unref();
  }

  stop(): Promise<void> {
    return this.close((socket) => socket.destroy());
  }

  kill(): Promise<void> {
    return this.close((socket) => socket.resetAndDestroy());
  }

  async restart(options: MongoDoubleRestartOptions = {}): Promise<void> {
    if (this.running) await this.stop();
    if (options.keepData === false) this.state.clear();
    else this.state.forgetCursors();
    await this.listen(this.port);
  }

  sweepTtl(): number {
    return this.state.sweepTtl();
  }

  private async close(end: (socket: Socket) => void): Promise<void> {
    const server = this.server;
    this.server = undefined;
    clearInterval(this.ttlTimer);
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) end(socket);
    this.sockets.clear();
    await closed;
  }

  private accept(socket: Socket): void {
    const connectionId = this.nextConnectionId++;
    const framer = new MessageFramer();
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const message of framer.push(chunk)) {
          const request = decodeMessage(message);
          const reply = request.kind === 'msg' ? this.onMsg(request, connectionId) : this.onQuery(request, connectionId);
          if (reply && !socket.destroyed) socket.write(reply);
        }
      } catch {
        // A malformed message or one the double cannot read: mongod closes such a connection too.
        socket.destroy();
      }
    });
  }

  private onMsg(request: OpMsgRequest, connectionId: number): Buffer | undefined {
    const db = request.body.$db;
    const outcome =
      typeof db === 'string'
        ? this.execute(request.body, db, connectionId)
        : { reply: new MongoCommandError(40571, 'OP_MSG requests require a $db argument').toReply() };
    // moreToCome: the client does not want an answer (unacknowledged writes).
    if (request.moreToCome) return undefined;
    return encodeOpMsgReply(this.nextRequestId++, request.header.requestId, outcome.reply);
  }

  /** OP_QUERY answers only the handshake, as mongod ≥ 5.1 does; any other command gets UnsupportedOpQueryCommand. */
  private onQuery(request: OpQueryRequest, connectionId: number): Buffer {
    const body = (request.query.$query ?? request.query) as Document;
    const name = Object.keys(body)[0] ?? '';
    let outcome: CommandOutcome;
    if (request.fullCollectionName.endsWith('.$cmd') && HELLO_COMMANDS.has(name)) {
      outcome = this.execute(body, request.fullCollectionName.slice(0, -'.$cmd'.length), connectionId);
    } else {
      const error = new MongoCommandError(
        MongoCode.UnsupportedOpQueryCommand,
        `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`,
      );
      this.refused.push(`${name}: ${error.message}`);
      outcome = { reply: error.toReply() };
    }
    return encodeOpReply(this.nextRequestId++, request.header.requestId, outcome.reply);
  }

  private execute(body: Document, db: string, connectionId: number): CommandOutcome {
    const name = Object.keys(body)[0] ?? '';
    this.commandCounts.set(name, (this.commandCounts.get(name) ?? 0) + 1);
    const outcome = runCommand({ state: this.state, db, connectionId }, body);
    if (outcome.refusal) this.refused.push(outcome.refusal);
    if (outcome.internalError) this.internalErrors.push(outcome.internalError);
    return outcome;
  }
}
