/**
 * The pages of the API reference (`/docs`) and the GraphQL explorer (`/graphql` in a browser). They live in the
 * compiled code, not in loose files, so the container image (which ships only dist/ and node_modules) has them;
 * the libraries they load (swagger-ui-dist, graphiql, react) are served from node_modules by docs.routes.ts.
 * No page loads anything from another origin.
 */

export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>RemoteGPU Inference — API reference</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/docs.js"></script>
</body>
</html>
`;

/** validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io for a badge. */
export const DOCS_JS = `window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#swagger-ui',
  validatorUrl: null,
  deepLinking: true,
  persistAuthorization: false,
});
`;

export const GRAPHIQL_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>RemoteGPU Inference — GraphQL explorer</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/docs/assets/graphiql.min.css">
  <style>
    html, body { height: 100%; margin: 0; }
    body { display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
    #token-bar { display: flex; gap: .5rem; align-items: center; padding: .4rem .75rem; border-bottom: 1px solid #ddd; font-size: 14px; }
    #token-bar input { flex: 1; max-width: 40rem; padding: .25rem .4rem; font-family: monospace; }
    #token-bar output { color: #555; }
    #graphiql { flex: 1; min-height: 0; }
  </style>
</head>
<body>
  <form id="token-bar" autocomplete="off">
    <label for="token">Bearer token</label>
    <input id="token" name="token" type="password" placeholder="eyJ… (npm run token)" spellcheck="false">
    <button type="submit">Use token</button>
    <output id="token-state" aria-live="polite"></output>
  </form>
  <div id="graphiql"></div>
  <script src="/docs/assets/react.production.min.js"></script>
  <script src="/docs/assets/react-dom.production.min.js"></script>
  <script src="/docs/assets/graphiql.min.js"></script>
  <script src="/docs/assets/graphiql-init.js"></script>
</body>
</html>
`;

/**
 * The token is kept in sessionStorage (gone with the tab) and sent as \`Authorization: Bearer …\` over HTTP and as
 * the graphql-ws connection_init payload for subscriptions, which is where the gateway reads it there.
 */
export const GRAPHIQL_JS = `(function () {
  var KEY = 'rgpu.graphiql.token';
  var input = document.getElementById('token');
  var state = document.getElementById('token-state');
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  var url = new URL('/graphql', window.location.href);
  var wsUrl = (url.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + url.host + url.pathname;

  function render() {
    var token = sessionStorage.getItem(KEY) || '';
    var auth = token ? 'Bearer ' + token : undefined;
    state.textContent = token ? 'token set' : 'no token: queries answer 401';
    var fetcher = GraphiQL.createFetcher({
      url: url.toString(),
      subscriptionUrl: wsUrl,
      headers: auth ? { Authorization: auth } : {},
      wsConnectionParams: auth ? { authorization: auth } : {},
    });
    root.render(
      React.createElement(GraphiQL, {
        key: token,
        fetcher: fetcher,
        defaultQuery: '{\\n  inferenceServices {\\n    items {\\n      id\\n      name\\n      status\\n    }\\n  }\\n}\\n',
        shouldPersistHeaders: false,
        // Without a token the schema cannot be read (401): load none until one is given.
        schema: token ? undefined : null,
      }),
    );
  }

  input.value = sessionStorage.getItem(KEY) || '';
  document.getElementById('token-bar').addEventListener('submit', function (event) {
    event.preventDefault();
    var token = input.value.trim().replace(/^Bearer\\s+/i, '');
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
    render();
  });
  render();
})();
`;
