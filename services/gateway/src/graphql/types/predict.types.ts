import 'reflect-metadata';
import { Field, Float, ObjectType } from 'type-graphql';

@ObjectType('Prediction')
export class PredictionType {
  @Field(() => String)
  class!: string;

  @Field(() => Float, { description: 'Probability in [0,1].' })
  confidence!: number;
}

@ObjectType('PredictResult')
export class PredictResultType {
  @Field(() => [PredictionType], { description: 'Sorted by confidence, highest first.' })
  predictions!: PredictionType[];
}
