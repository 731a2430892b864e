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
 * Nothing is sent before the Headers tab holds a key: GraphiQL would fetch the
 * schema (introspection) on load, and every keyless request is a 401 that
 * teaches nothing. The schema is fetched once a key is there (a moment after
 * the last edit, so a key typed by hand is not sent one character at a time),
 * and again whenever the key changes; a query run without a key is answered
 * in the page.
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
    "#    after \"Bearer \". The schema (docs and",
    "#    autocompletion) loads once the key is there.",
    "# 2. Run: Ctrl-Enter or the play button.",
    "",
    "{",
    "  __typename",
    "}",
    "",
  ].join("\n");

  // --- The key in the Headers tab: nothing is sent without one. ---
  var HEADERS_STORAGE_KEY = "graphiql:headers"; // where GraphiQL persists the Headers tab
  var KEY_SETTLE_MS = 600;
  var NO_KEY = {
    errors: [
      {
        message:
          "No API key: paste yours into the Headers tab as " +
          "{\"Authorization\": \"Bearer <key>\"}. Nothing was sent.",
        extensions: { code: "UNAUTHENTICATED" },
      },
    ],
  };

  // The Authorization value of a headers object, or "" when it holds no key
  // (missing, empty, or still the "<paste your API key here>" placeholder).
  function authorizationOf(headers) {
    var found = "";
    Object.keys(headers || {}).forEach(function (name) {
      var value = headers[name];
      if (name.toLowerCase() === "authorization" && typeof value === "string") {
        var match = /^\s*bearer\s+([^\s<>]+)\s*$/i.exec(value);
        found = match ? value.trim() : "";
      }
    });
    return found;
  }

  function authorizationIn(text) {
    try {
      return authorizationOf(JSON.parse(text || "{}"));
    } catch (e) {
      return ""; // half-typed JSON: no key yet
    }
  }

  function storedHeaders() {
    try {
      return window.localStorage.getItem(HEADERS_STORAGE_KEY) || DEFAULT_HEADERS;
    } catch (e) {
      return DEFAULT_HEADERS; // storage disabled
    }
  }

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

  async function* noKeyStream() {
    yield NO_KEY;
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
    var keyless = !authorizationOf(editorHeaders);
    if (isSubscription(graphQLParams)) {
      return keyless ? noKeyStream() : subscribe(graphQLParams, headers);
    }
    if (keyless) {
      return Promise.resolve(NO_KEY);
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

  var initialHeaders = storedHeaders();

  function Playground() {
    var queryState = React.useState(parameters.query || parameters.q || EXAMPLE_QUERY);
    var variablesState = React.useState(parameters.variables);
    var keyState = React.useState(authorizationIn(initialHeaders));
    var key = keyState[0];
    var settleTimer = React.useRef(null);
    // A new fetcher for each key: GraphiQL fetches the schema again when its fetcher changes.
    var keyedFetcher = React.useMemo(
      function () {
        return function (graphQLParams, opts) {
          return fetcher(graphQLParams, opts);
        };
      },
      [key],
    );

    return React.createElement(GraphiQL, {
      fetcher: keyedFetcher,
      // null: no introspection at all; undefined: GraphiQL fetches the schema.
      schema: key ? undefined : null,
      plugins: plugins,
      query: queryState[0],
      variables: variablesState[0],
      headers: initialHeaders,
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
      onEditHeaders: function (value) {
        window.clearTimeout(settleTimer.current);
        settleTimer.current = window.setTimeout(function () {
          keyState[1](authorizationIn(value));
        }, KEY_SETTLE_MS);
      },
    });
  }

  root.textContent = "";
  ReactDOM.createRoot(root).render(React.createElement(Playground));
})();
