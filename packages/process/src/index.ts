export { runMain, type MainContext, type MainOptions, type Stoppable } from './run-main.js';
export { stdoutLogger } from './stdout-logger.js';
