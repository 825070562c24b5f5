import 'reflect-metadata';
import { Arg, Ctx, ID, Int, Resolver, Root, Subscription } from 'type-graphql';
import { statusMessageIn, type ServiceStatusEvent } from '@remotegpu/core';
import { assertCanActIn, visibleWorkspaces, type Principal } from '../application/index.js';
import { STATUS_TOPIC, type StatusInterest } from '../events/status-fanout.js';
import { given } from './arguments.js';
import type { GraphqlContext } from './context.js';
import { ServiceStatusEventType } from './types/status-event.types.js';

interface StatusArgs {
  id?: string | null;
  workspaceId?: number | null;
}

/**
 * What a subscription may receive. Naming a workspace the token does not hold is a 40300 (the socket closes
 * with 4403), as creating in it would be; naming a service the token cannot see just never yields, so a
 * subscription cannot probe which service ids exist.
 */
export function statusInterest(principal: Principal, args: StatusArgs): StatusInterest {
  const workspaceId = given(args.workspaceId);
  const serviceId = given(args.id);
  if (workspaceId !== undefined) {
    assertCanActIn(principal, workspaceId);
    return { workspaces: [workspaceId], serviceId };
  }
  return { workspaces: visibleWorkspaces(principal), serviceId };
}

@Resolver()
export class StatusSubscriptionResolver {
  @Subscription(() => ServiceStatusEventType, {
    topics: STATUS_TOPIC,
    // The topic id is the subscription's interest: the fan-out routes by workspace and service, no per-event filter.
    topicId: ({ args, context }: { args: StatusArgs; context: GraphqlContext }) => statusInterest(context.principal, args),
    description:
      'Status changes of the services this token may see (all for an admin), over graphql-ws on /graphql. id: one service; workspaceId: one workspace (40300 / close 4403 when the token may not act in it).',
  })
  inferenceServiceStatusChanged(
    @Root() event: ServiceStatusEvent,
    @Ctx() ctx: GraphqlContext,
    @Arg('id', () => ID, { nullable: true }) _id?: string | null,
    @Arg('workspaceId', () => Int, { nullable: true }) _workspaceId?: number | null,
  ): ServiceStatusEvent {
    // Worded in the language of the socket's upgrade request (Accept-Language), from the reason and its params.
    const message = statusMessageIn({ statusReason: event.reason, statusParams: event.params, statusMessage: event.message }, ctx.language);
    return { ...event, message };
  }
}
