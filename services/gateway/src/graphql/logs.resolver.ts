import 'reflect-metadata';
import { Arg, Ctx, ID, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import { findService, followServiceLogs, parseLogQuery, readServiceLogs, type LogLine } from '../application/index.js';
import { LogFeed } from './log-feed.js';
import { given } from './arguments.js';
import type { GraphqlContext } from './context.js';
import { listComplexity } from './limits.js';
import { ReplicaLogLineType } from './types/logs.types.js';

/** Lines a logs answer is costed at: the default tail. A larger `tail` costs the same (one field of text each). */
const EXPECTED_LINES = 100;

/** Replica logs through GraphQL: the same use case and query rules as `GET …/logs` (follow is REST's SSE). */
@Resolver()
export class LogsResolver {
  @Query(() => [ReplicaLogLineType], {
    nullable: true,
    complexity: listComplexity(EXPECTED_LINES),
    description:
      "The service's replicas' recent output, oldest first: tail 1–5000 (default 100), since an RFC 3339 time or a duration such as 10m. Null when the service does not exist or is not visible to this token.",
  })
  async inferenceServiceLogs(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphqlContext,
    @Arg('replica', () => String, { nullable: true }) replica?: string | null,
    @Arg('tail', () => Int, { nullable: true }) tail?: number | null,
    @Arg('since', () => String, { nullable: true }) since?: string | null,
  ): Promise<LogLine[] | null> {
    const query = parseLogQuery(
      { replica: given(replica), tail: tail === null || tail === undefined ? undefined : String(tail), since: given(since) },
      ctx.deps.now(),
    );
    if (!(await findService(ctx.deps, ctx.principal, id))) return null;
    return readServiceLogs(ctx.deps, ctx.principal, id, { replica: query.replica, tail: query.tail, since: query.since });
  }

  @Subscription(() => ReplicaLogLineType, {
    subscribe: ({ args, context }: { args: { id: string; replica?: string | null }; context: GraphqlContext }) => followLogs(context, args),
    description:
      "New lines of the service's replicas as they are written (REST: GET …/logs?follow=true), over graphql-ws on /graphql. 40400 when the service does not exist or is not visible to this token.",
  })
  inferenceServiceLogLine(
    @Root() line: LogLine,
    @Arg('id', () => ID) _id: string,
    @Arg('replica', () => String, { nullable: true }) _replica?: string | null,
  ): LogLine {
    return line;
  }
}

async function followLogs(ctx: GraphqlContext, args: { id: string; replica?: string | null }): Promise<AsyncIterable<LogLine>> {
  const query = parseLogQuery({ replica: given(args.replica) }, ctx.deps.now());
  const feed = new LogFeed();
  const follower = await followServiceLogs(ctx.deps, ctx.principal, args.id, { replica: query.replica }, (line) => feed.push(line));
  feed.attach(() => follower.close());
  return feed;
}
