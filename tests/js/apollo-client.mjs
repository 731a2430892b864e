#!/usr/bin/env node
// Apollo Client (@apollo/client: ApolloClient, InMemoryCache, HttpLink, default settings)
// against the gateway:
//
// 1. a query: reads the event log page by page to its last cursor;
// 2. a subscription over HTTP (HttpLink asks for multipart/mixed;subscriptionSpec=1.0) to
//    pay-out events after that cursor, while mutations create a pay-out and settle it: the
//    subscription receives PAY_OUT_CREATED, PAY_OUT_PENDING, PAY_OUT_SUCCESSFUL;
// 3. automatic persisted queries: clients with a PersistedQueryLink (sha256 from node:crypto)
//    in front of their HttpLink, each with its own cache. The first client's query is sent as
//    a hash alone, answered PersistedQueryNotFound, and sent again with its document (which
//    the gateway stores); a second client's same query is then answered from its hash alone.
//    The same again with `useGETForHashedQueries`: the hash alone goes over GET.
//
// Every exchange is recorded (method, Accept, status, Content-Type, hash or document).
// Input and output: see common.mjs.

import { createHash } from "node:crypto";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

import {
  CREATE_PAY_OUT,
  EVENT_LOG,
  FOLLOW_EVENTS,
  SIMULATE_PAY_OUT,
  check,
  lastCursor,
  main,
  payOutInput,
  recordingFetch,
  waitFor,
} from "./common.mjs";

const PAY_OUT_EVENTS = ["PAY_OUT_CREATED", "PAY_OUT_PENDING", "PAY_OUT_SUCCESSFUL"];

function clientFor(config, exchanges, ...links) {
  const http = new HttpLink({
    uri: config.httpUrl,
    headers: { authorization: `Bearer ${config.apiKey}` },
    fetch: recordingFetch(exchanges),
  });
  const link = links.reduceRight((next, link) => link.concat(next), http);
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

async function followPayOut(config, client) {
  const log = gql(EVENT_LOG);
  const after = await lastCursor(async (variables) => {
    const { data } = await client.query({ query: log, variables });
    return data;
  });
  const events = [];
  let subscription;
  const payOut = await waitFor("the pay-out's events", config.stepTimeoutMs, (resolve, reject) => {
    subscription = client
      .subscribe({ query: gql(FOLLOW_EVENTS), variables: { after, types: PAY_OUT_EVENTS } })
      .subscribe({
        next: ({ data, error }) => (error ? reject(error) : events.push(data.events)),
        error: reject,
      });
    settlePayOut(client, config).then((settled) => {
      const poll = setInterval(() => {
        if (events.filter((event) => event.objectId === settled.id).length === 3) {
          clearInterval(poll);
          resolve(settled);
        }
      }, 20);
    }, reject);
  });
  subscription.unsubscribe();
  return { payOut, events };
}

async function settlePayOut(client, config) {
  const created = await client.mutate({
    mutation: gql(CREATE_PAY_OUT),
    variables: { input: payOutInput(config, 2_50) },
  });
  const payload = created.data.createPayOut;
  check(payload.__typename === "CreatePayOutSuccess", JSON.stringify(payload));
  const settled = await client.mutate({
    mutation: gql(SIMULATE_PAY_OUT),
    variables: { input: { payOutId: payload.payOut.id, outcome: "SUCCEEDED" } },
  });
  const simulated = settled.data.simulatePayOut;
  check(simulated.__typename === "SimulateSuccess", JSON.stringify(simulated));
  return simulated.object;
}

const PLATFORM_NAME = gql`query PlatformName { platform { id name } }`;
const PLATFORM_ENVIRONMENT = gql`query PlatformEnvironment { platform { id environment } }`;

async function persistedQueries(config, exchanges) {
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  const run = async (query, options = {}) => {
    const client = clientFor(config, exchanges, new PersistedQueryLink({ sha256, ...options }));
    return (await client.query({ query })).data.platform;
  };
  const first = await run(PLATFORM_NAME);
  const second = await run(PLATFORM_NAME);
  const overGet = { useGETForHashedQueries: true };
  const third = await run(PLATFORM_ENVIRONMENT, overGet);
  const fourth = await run(PLATFORM_ENVIRONMENT, overGet);
  return { first, second, third, fourth };
}

main(async (config) => {
  const exchanges = [];
  const followed = await followPayOut(config, clientFor(config, exchanges));
  const persistedExchanges = [];
  const persisted = await persistedQueries(config, persistedExchanges);
  return { ...followed, exchanges, persisted, persistedExchanges };
});
