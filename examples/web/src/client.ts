// The urql client: queries and mutations over HTTP (fetch), subscriptions over a WebSocket
// (graphql-ws, the graphql-transport-ws protocol), both with the user token. The socket's
// state is published to the page: it shows whether balances are live, and refetches once the
// socket is (re)connected, so that nothing that happened while it was down is missed.
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";
import { createClient as createSocketClient } from "graphql-ws";

export type SocketState = "connecting" | "live" | "down";

export interface Gateway {
  client: Client;
  onSocketState(listener: (state: SocketState) => void): () => void;
}

export function connect(gatewayUrl: string, token: string): Gateway {
  const listeners = new Set<(state: SocketState) => void>();
  const publish = (state: SocketState) => listeners.forEach((listener) => listener(state));
  const socket = createSocketClient({
    url: `${gatewayUrl.replace(/^http/, "ws")}/graphql`,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 20,
    on: {
      connecting: () => publish("connecting"),
      connected: () => publish("live"),
      closed: () => publish("down"),
    },
  });
  const client = new Client({
    url: `${gatewayUrl}/graphql`,
    fetchOptions: { headers: { Authorization: `Bearer ${token}` } },
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              return { unsubscribe: socket.subscribe(input, sink) };
            },
          };
        },
      }),
    ],
  });
  return {
    client,
    onSocketState(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
