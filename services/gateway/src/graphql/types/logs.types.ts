import 'reflect-metadata';
import { Field, ObjectType } from 'type-graphql';

/** One line a replica wrote (REST `GET …/logs` items). */
@ObjectType('ReplicaLogLine')
export class ReplicaLogLineType {
  @Field(() => String, { description: 'The replica (local: its id; Kubernetes: the pod name).' })
  replica!: string;

  @Field(() => String, { description: 'ISO-8601 UTC: when it was read (Kubernetes: the kubelet timestamp).' })
  at!: string;

  @Field(() => String, { description: '`stdout` or `stderr` (Kubernetes merges both into stdout).' })
  stream!: string;

  @Field(() => String)
  line!: string;
}
