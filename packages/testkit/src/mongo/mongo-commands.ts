import type { Document } from 'bson';
import { buildInfo, createIndexes, drop, dropDatabase, dropIndexes, endSessions, hello, listIndexes, ping } from './mongo-admin.commands.js';
import type { CommandContext, CommandHandler } from './mongo-command.helpers.js';
import { commandNotFound, MongoCode, MongoCommandError } from './mongo-errors.js';
import { aggregate, count, find, getMore, killCursors } from './mongo-read.commands.js';
import { findAndModify, insert, remove, update } from './mongo-write.commands.js';

/**
 * Every command the double implements. Names are case-sensitive as on mongod, which accepts only the historic
 * lower-case aliases listed here; anything else is `CommandNotFound` ("no such command: 'x'").
 */
const COMMANDS: Readonly<Record<string, CommandHandler>> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  buildInfo,
  buildinfo: buildInfo,
  ping,
  endSessions,
  insert,
  find,
  getMore,
  killCursors,
  update,
  delete: remove,
  findAndModify,
  findandmodify: findAndModify,
  count,
  aggregate,
  createIndexes,
  listIndexes,
  dropIndexes,
  drop,
  dropDatabase,
};

export const HELLO_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);

/** Refusals that mean "the client asked for something this double does not do" (as opposed to a user error). */
const REFUSAL_CODES = new Set<number>([
  MongoCode.CommandNotFound,
  MongoCode.NotImplemented,
  MongoCode.UnknownField,
  MongoCode.UnknownStage,
  MongoCode.IllegalOperation,
  MongoCode.UnsupportedOpQueryCommand,
]);

export interface CommandOutcome {
  reply: Document;
  /** Set when the double refused the command as not implemented (see {@link REFUSAL_CODES}). */
  refusal?: string;
  /** Set when a handler failed unexpectedly: a defect of the double, answered as InternalError. */
  internalError?: Error;
}

export function runCommand(ctx: CommandContext, body: Document): CommandOutcome {
  const name = Object.keys(body)[0] ?? '';
  const handler = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!handler) throw commandNotFound(name);
    return { reply: handler(ctx, body) };
  } catch (err) {
    if (err instanceof MongoCommandError) {
      return { reply: err.toReply(), refusal: REFUSAL_CODES.has(err.code) ? `${name}: ${err.message}` : undefined };
    }
    const internal = err instanceof Error ? err : new Error(String(err));
    return { reply: new MongoCommandError(MongoCode.InternalError, `the MongoDB test double failed: ${internal.message}`).toReply(), internalError: internal };
  }
}
