#!/usr/bin/env node
// graphql-sse (its client with its defaults: distinct connections mode, one POST with
// `Accept: text/event-stream` per operation) against the gateway:
//
// 1. a query: reads the event log page by page to its last cursor, each answer one `next`
//    event then `complete`;
// 2. a subscription to TRANSFER_SUCCESSFUL events after that cursor;
// 3. a mutation: a transfer, whose TRANSFER_SUCCESSFUL event the subscription receives.
//
// Every exchange is recorded (method, Accept, status, Content-Type) for the test to check.
// Input and output: see common.mjs.

import { createClient } from "graphql-sse";

import {
  CREATE_TRANSFER,
  EVENT_LOG,
  FOLLOW_EVENTS,
  check,
  lastCursor,
  main,
  recordingFetch,
  transferInput,
  waitFor,
} from "./common.mjs";

main(async (config) => {
  const exchanges = [];
  const client = createClient({
    url: config.httpUrl,
    headers: { authorization: `Bearer ${config.apiKey}` },
    fetchFn: recordingFetch(exchanges),
  });

  /** The one result of a query or a mutation, streamed as one event. */
  async function once(query, variables, operationName) {
    const results = [];
    for await (const result of client.iterate({ query, variables, operationName })) {
      results.push(result);
    }
    check(results.length === 1, `one result expected, got ${JSON.stringify(results)}`);
    const [result] = results;
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data;
  }

  const after = await lastCursor((variables) => once(EVENT_LOG, variables, "EventLog"));

  const events = [];
  let unsubscribe;
  const transfer = await waitFor("the transfer's event", config.stepTimeoutMs, (resolve, reject) => {
    unsubscribe = client.subscribe(
      {
        query: FOLLOW_EVENTS,
        variables: { after, types: ["TRANSFER_SUCCESSFUL"] },
        operationName: "FollowEvents",
      },
      { next: (result) => (result.errors ? reject(result.errors) : events.push(result.data.events)),
        error: reject,
        complete: () => {} },
    );
    once(CREATE_TRANSFER, { input: transferInput(config, 1_75) }, "CreateTransfer").then((data) => {
      const payload = data.createTransfer;
      check(payload.__typename === "CreateTransferSuccess", JSON.stringify(payload));
      const poll = setInterval(() => {
        if (events.some((event) => event.objectId === payload.transfer.id)) {
          clearInterval(poll);
          resolve(payload.transfer);
        }
      }, 20);
    }, reject);
  });
  unsubscribe();
  client.dispose();

  return { transfer, events, exchanges };
});
