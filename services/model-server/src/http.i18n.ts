export { languageOf } from '@remotegpu/core';
