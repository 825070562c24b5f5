// ArtifactSource and IngestedArtifact are the application port's types, exported from there.
export { ArtifactIngestor, checkServable, parseArtifactUri } from './artifact-ingest.js';
export type { ArtifactIngestOptions, ArtifactTarget } from './artifact-ingest.js';
export { isPublicAddress } from './address-policy.js';
