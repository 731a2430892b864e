#!/usr/bin/env node
// urql (@urql/core with its defaults, fetchSubscriptions: true) against the gateway:
//
// 1. a query: reads the event log page by page to its last cursor;
// 2. an invalid query ({ nope }): urql reads the request error;
// 3. a subscription (over HTTP: urql asks for `text/event-stream, multipart/mixed`) to
//    TRANSFER_SUCCESSFUL events after that cursor;
// 4. a mutation: a transfer, whose TRANSFER_SUCCESSFUL event the subscription receives.
//
// Every exchange is recorded (method, Accept, status, Content-Type) for the test to check.
// Input and output: see common.mjs.

import { Client, fetchExchange } from "@urql/core";

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
  const client = new Client({
    url: config.httpUrl,
    exchanges: [fetchExchange],
    fetchSubscriptions: true,
    fetch: recordingFetch(exchanges),
    fetchOptions: { headers: { authorization: `Bearer ${config.apiKey}` } },
  });

  async function query(document, variables) {
    const result = await client.query(document, variables).toPromise();
    if (result.error) throw result.error;
    return result.data;
  }

  const after = await lastCursor((variables) => query(EVENT_LOG, variables));
  const invalid = await client.query("query Invalid { nope }", {}).toPromise();

  const events = [];
  let subscription;
  const transfer = await waitFor("the transfer's event", config.stepTimeoutMs, (resolve, reject) => {
    subscription = client
      .subscription(FOLLOW_EVENTS, { after, types: ["TRANSFER_SUCCESSFUL"] })
      .subscribe((result) => {
        if (result.error) return reject(result.error);
        events.push(result.data.events);
      });
    client
      .mutation(CREATE_TRANSFER, { input: transferInput(config, 1_25) })
      .toPromise()
      .then((result) => {
        if (result.error) return reject(result.error);
        const payload = result.data.createTransfer;
        check(payload.__typename === "CreateTransferSuccess", JSON.stringify(payload));
        const poll = setInterval(() => {
          if (events.some((event) => event.objectId === payload.transfer.id)) {
            clearInterval(poll);
            resolve(payload.transfer);
          }
        }, 20);
      }, reject);
  });
  subscription.unsubscribe();

  return {
    invalid: {
      codes: invalid.error?.graphQLErrors.map((error) => error.extensions?.code) ?? [],
      data: invalid.data ?? null,
    },
    transfer,
    events,
    exchanges,
  };
});
