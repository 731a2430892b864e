/*
 * mps-gateway GraphiQL playground bootstrap.
 *
 * Moved out of the HTML page so that the page runs under a strict
 * Content-Security-Policy (script-src 'self', no 'unsafe-inline', no
 * 'unsafe-eval'). Based on strawberry-graphql's graphiql.html inline script,
 * minus the js-cookie/CSRF part. Subscriptions run over SSE (graphql-sse,
 * distinct connections) with the same headers as queries, so the API key
 * typed in the Headers tab works for them too.
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

  // --- Subscriptions: POST with Accept: text/event-stream, read SSE events. ---
  function isSubscription(graphQLParams) {
    var text = String(graphQLParams.query || "").replace(/#[^\n]*/g, "");
    var name = graphQLParams.operationName;
    if (name) {
      return new RegExp("subscription\\s+" + name + "\\b").test(text);
    }
    return /^\s*subscription\b/.test(text);
  }

  async function* subscribe(graphQLParams, headers) {
    headers.Accept = "text/event-stream";
    var response = await fetch(endpoint, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(graphQLParams),
      credentials: "same-origin",
    });
    if (!response.ok || !response.body) {
      var text = await response.text();
      try {
        yield JSON.parse(text);
      } catch (e) {
        yield { errors: [{ message: "HTTP " + response.status + ": " + text.slice(0, 2000) }] };
      }
      return;
    }
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    try {
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) {
          return;
        }
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r/g, "");
        var boundary;
        while ((boundary = buffer.indexOf("\n\n")) >= 0) {
          var block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          var event = "message";
          var data = "";
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) {
              event = line.slice(6).trim();
            } else if (line.indexOf("data:") === 0) {
              data += line.slice(5).trim();
            }
          });
          if (event === "complete") {
            return;
          }
          if (event === "next" && data) {
            yield JSON.parse(data);
          }
        }
      }
    } finally {
      reader.cancel().catch(function () {});
    }
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
    if (isSubscription(graphQLParams)) {
      return subscribe(graphQLParams, headers);
    }

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
