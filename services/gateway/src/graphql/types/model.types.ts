import 'reflect-metadata';
import { Field, Float, InputType, Int, ObjectType } from 'type-graphql';
import { SafeInt } from '../scalars.js';
import { PaginationType } from './common.types.js';

@ObjectType('TensorSpec')
export class TensorSpecType {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'ONNX element type as onnxruntime reports it, e.g. float32.' })
  datatype!: string;

  @Field(() => [Int], { description: 'Dimensions; -1 marks a dynamic one.' })
  shape!: number[];
}

@ObjectType('Preprocessing')
export class PreprocessingType {
  @Field(() => [Float], { description: 'Per-channel (R, G, B) mean subtracted after scaling to [0,1].' })
  mean!: number[];

  @Field(() => [Float], { description: 'Per-channel (R, G, B) divisor.' })
  std!: number[];

  @Field(() => [Int], { nullable: true, description: '[height, width] images are resized to; set when the model leaves them dynamic.' })
  size?: number[] | null;
}

@ObjectType('Batching', { description: 'Dynamic batching of the replicas serving a version.' })
export class BatchingType {
  @Field(() => Int, { description: 'Most images per model run.' })
  maxBatchSize!: number;

  @Field(() => Int, { description: 'Longest a request waits for others to join its batch (only while others are arriving).' })
  maxQueueDelayMs!: number;

  @Field(() => [Int], { description: 'Sizes that start a run as soon as they are reached (ascending).' })
  preferredBatchSizes!: number[];
}

@InputType('BatchingInput')
export class BatchingInput {
  @Field(() => Int, { description: '1 to 256 (1: off).' })
  maxBatchSize!: number;

  @Field(() => Int, { nullable: true, description: '0 to 1000; default 5.' })
  maxQueueDelayMs?: number | null;

  @Field(() => [Int], { nullable: true, description: 'Strictly ascending, each at most maxBatchSize; at most 16.' })
  preferredBatchSizes?: number[] | null;
}

/** The artifact's server-side path and source are deliberately not exposed. */
@ObjectType('ModelVersion')
export class ModelVersionType {
  @Field(() => Int)
  modelId!: number;

  @Field(() => String)
  version!: string;

  @Field(() => String, { description: 'Artifact format; always onnx.' })
  format!: string;

  @Field(() => SafeInt)
  sizeBytes!: number;

  @Field(() => String, { description: 'Hex SHA-256 of the artifact.' })
  sha256!: string;

  @Field(() => [TensorSpecType])
  inputs!: TensorSpecType[];

  @Field(() => [TensorSpecType])
  outputs!: TensorSpecType[];

  @Field(() => [String], { description: 'One class label per model output, in output order.' })
  labels!: string[];

  @Field(() => PreprocessingType, { nullable: true })
  preprocessing!: PreprocessingType | null;

  @Field(() => BatchingType, { nullable: true, description: 'Null: off (one model run per request).' })
  batching?: BatchingType | null;

  @Field(() => String, { description: 'ISO-8601 UTC.' })
  createdAt!: string;
}

/** `versions` is a field resolver (`model.resolver.ts`). */
@ObjectType('Model')
export class ModelType {
  @Field(() => Int)
  id!: number;

  @Field(() => Int)
  workspaceId!: number;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  framework!: string;

  @Field(() => String, { description: 'image-classification' })
  task!: string;

  @Field(() => String)
  description!: string;

  @Field(() => String, { description: 'ISO-8601 UTC.' })
  createdAt!: string;

  @Field(() => String, { description: 'ISO-8601 UTC.' })
  updatedAt!: string;
}

@ObjectType('ModelPage')
export class ModelPageType {
  @Field(() => [ModelType], { description: 'Newest first.' })
  items!: ModelType[];

  @Field(() => PaginationType)
  pagination!: PaginationType;
}

/** As `POST /api/v1/models`; validated by the same core parser (field errors name the REST fields). */
@InputType('CreateModelInput')
export class CreateModelInput {
  @Field(() => String)
  name!: string;

  @Field(() => Int)
  workspaceId!: number;

  @Field(() => String, { description: 'pytorch, tensorflow, onnx, paddle, sklearn or xgboost.' })
  framework!: string;

  @Field(() => String, { nullable: true, description: 'Default image-classification (the only task so far).' })
  task?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

@InputType('PreprocessingInput')
export class PreprocessingInput {
  @Field(() => [Float], { nullable: true, description: 'Per-channel (R, G, B) mean, |mean| <= 1000; default [0,0,0].' })
  mean?: number[] | null;

  @Field(() => [Float], { nullable: true, description: 'Per-channel (R, G, B) divisor, 1e-6 to 1000; default [1,1,1].' })
  std?: number[] | null;

  @Field(() => [Int], {
    nullable: true,
    description: "[height, width] (1 to 4096) images are resized to: required when the model's height or width is dynamic, must match when fixed.",
  })
  size?: number[] | null;
}

/**
 * As the JSON form of `POST /api/v1/models/{model_id}/versions` (`artifact_uri`). Uploading the file itself
 * stays REST-only (multipart).
 */
@InputType('CreateModelVersionFromUriInput')
export class CreateModelVersionFromUriInput {
  @Field(() => String)
  version!: string;

  @Field(() => String, { description: 'file:// below an allowed root, or http(s)://.' })
  artifactUri!: string;

  @Field(() => [String])
  labels!: string[];

  @Field(() => PreprocessingInput, { nullable: true })
  preprocessing?: PreprocessingInput | null;

  @Field(() => BatchingInput, { nullable: true, description: "Refused (422) when the model's batch dimension is fixed at 1." })
  batching?: BatchingInput | null;
}
