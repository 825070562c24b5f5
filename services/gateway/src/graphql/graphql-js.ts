/**
 * graphql-js, always as its CommonJS build. The package ships `index.js` (CJS, what Node's `import 'graphql'`
 * loads, and so what type-graphql, Apollo and graphql-query-complexity get) and `index.mjs` (what Vite, and so
 * vitest, picks for `'graphql'` from its `module` field). Two copies break every `instanceof` check
 * (`GraphQLScalarType`, `GraphQLError`, schema types), so this code names the CJS file explicitly; Node and
 * Vite then load the one instance everything else uses.
 */
export * from 'graphql/index.js';
