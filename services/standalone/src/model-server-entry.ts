/** Moved to the model-server package, which the provisioner process shares it from; kept here for existing imports. */
export { modelServerEntry } from '@remotegpu/model-server';
