/*
 * mps-gateway GraphiQL playground bootstrap.
 *
 * Moved out of the HTML page so that the page runs under a strict
 * Content-Security-Policy (script-src 'self', no 'unsafe-inline', no
 * 'unsafe-eval'). Based on strawberry-graphql's graphiql.html inline script,
 * minus the js-cookie/CSRF and websocket-subscription parts.
 *
 * Expects the globals React, ReactDOM, GraphiQL (graphiql@3.8.3 UMD) and,
 * optionally, GraphiQLPluginExplorer (@graphiql/plugin-explorer@1.0.2 UMD)
 * to be loaded before this file, and a root element:
 *
 *   <div id="graphiql" data-endpoint="/graphql"></div>
 */
(function () {
  "use strict";

  var root = document.getElementById("graphiql");
  if (!root) {
    return;
  }
  var endpoint = root.getAttribute("data-endpoint") || "/graphql";

  var DEFAULT_HEADERS = JSON.stringify(
    { Authorization: "Bearer <paste your API key here>" },
    null,
    2,
  );

  var EXAMPLE_QUERY = [
    "# mps-gateway GraphQL playground",
    "#",
    "# 1. Headers tab (below): paste your API key",
    "#    after \"Bearer \".",
    "# 2. Re-fetch the schema with the new headers",
    "#    (circular-arrows button, bottom left) to get",
    "#    docs and autocompletion.",
    "# 3. Run: Ctrl-Enter or the play button.",
    "",
    "{",
    "  __typename",
    "}",
    "",
  ].join("\n");

  // --- Query/variables are mirrored in the URL so a link can be shared. ---
  // (Headers are never put in the URL: they carry the API key.)
  var parameters = {};
  window.location.search
    .slice(1)
    .split("&")
    .forEach(function (entry) {
      var eq = entry.indexOf("=");
      if (eq >= 0) {
        try {
          parameters[decodeURIComponent(entry.slice(0, eq))] =
            decodeURIComponent(entry.slice(eq + 1).replace(/\+/g, " "));
        } catch (e) {
          /* ignore malformed parameters */
        }
      }
    });

  function updateURL(data) {
    Object.assign(parameters, data);
    var search = Object.keys(parameters)
      .filter(function (key) {
        return Boolean(parameters[key]);
      })
      .map(function (key) {
        return encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]);
      })
      .join("&");
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  // --- Fetcher: POST JSON to the endpoint; headers come from the editor. ---
  function fetcher(graphQLParams, opts) {
    var headers = {
      Accept: "application/graphql-response+json, application/json",
    };
    var editorHeaders = (opts && opts.headers) || {};
    Object.keys(editorHeaders).forEach(function (name) {
      headers[name] = editorHeaders[name];
    });
    headers["Content-Type"] = "application/json";

    return fetch(endpoint, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(graphQLParams),
      credentials: "same-origin",
    }).then(function (response) {
      return response.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (e) {
          return {
            errors: [
              {
                message:
                  "HTTP " +
                  response.status +
                  " " +
                  response.statusText +
                  (text ? ": " + text.slice(0, 2000) : ""),
              },
            ],
          };
        }
      });
    });
  }

  var plugins = [];
  if (typeof window.GraphiQLPluginExplorer !== "undefined") {
    plugins.push(window.GraphiQLPluginExplorer.explorerPlugin());
  }

  function Playground() {
    var queryState = React.useState(parameters.query || parameters.q || EXAMPLE_QUERY);
    var variablesState = React.useState(parameters.variables);

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: plugins,
      query: queryState[0],
      variables: variablesState[0],
      defaultHeaders: DEFAULT_HEADERS,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: "headers",
      inputValueDeprecation: true,
      onEditQuery: function (value) {
        queryState[1](value);
        updateURL({ query: value, q: "" });
      },
      onEditVariables: function (value) {
        variablesState[1](value);
        updateURL({ variables: value });
      },
    });
  }

  root.textContent = "";
  ReactDOM.createRoot(root).render(React.createElement(Playground));
})();
