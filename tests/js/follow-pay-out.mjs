#!/usr/bin/env node
// Follows a pay-out through Subscription.events with the graphql-ws client, then resumes.
//
// 0. Checks that a wrong API key in connection_init is refused (close code 4403).
// 1. Subscribes (objectId = the pay-out) after the log's last cursor, drives the pay-out
//    CREATED -> PENDING -> SUCCEEDED with simulatePayOut, and expects PAY_OUT_CREATED,
//    PAY_OUT_PENDING, PAY_OUT_SUCCESSFUL in that order, each with the object as it is now.
// 2. Disposes the client (the WebSocket closes), then, while nobody listens, makes more
//    events: a second pay-out that fails, and a transfer.
// 3. Reconnects with a new client, `after: <last cursor received>` and no filter, and expects
//    exactly the missed events in order (compared with Platform.events(after:) read over HTTP),
//    then one live event (another transfer), then nothing more.
//
// Input (environment): MPS_GATEWAY_URL (http://host:port), MPS_API_KEY,
// MPS_DEBITED_ACCOUNT_ID, MPS_CREDITED_ACCOUNT_ID (same currency, EUR), MPS_BANK_ACCOUNT_ID;
// optional MPS_STEP_TIMEOUT_MS (10000), MPS_TIMEOUT_MS (60000), MPS_MIN_PINGS (0: server
// keep-alive pings to wait for on the resumed connection before finishing).
// Output: one JSON summary on stdout; exit 1 with a message on stderr on any mismatch,
// exit 2 when the whole run takes longer than MPS_TIMEOUT_MS.

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

import { createClient } from "graphql-ws";
import WebSocket from "ws";

const EVENTS = `
  subscription FollowEvents($after: String, $types: [EventType!], $objectId: ID) {
    events(after: $after, types: $types, objectId: $objectId) {
      id cursor type status previousStatus objectId
      object { __typename id ... on PayOut { status } ... on Transfer { transferStatus: status } }
    }
  }`;

const PLATFORM_EVENTS = `
  query PlatformEvents($first: Int!, $after: String) {
    platform {
      events(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id cursor type status previousStatus objectId }
      }
    }
  }`;

const CREATE_PAY_OUT = `
  mutation CreatePayOut($input: CreatePayOutInput!) {
    createPayOut(input: $input) {
      __typename
      ... on CreatePayOutSuccess { payOut { id status } }
      ... on Rejection { code message }
    }
  }`;

const SIMULATE_PAY_OUT = `
  mutation SimulatePayOut($input: SimulatePayOutInput!) {
    simulatePayOut(input: $input) {
      __typename
      ... on SimulateSuccess { object { id ... on PayOut { status failureReason } } }
      ... on Rejection { code message }
    }
  }`;

const CREATE_TRANSFER = `
  mutation CreateTransfer($input: CreateTransferInput!) {
    createTransfer(input: $input) {
      __typename
      ... on CreateTransferSuccess { transfer { id status } }
      ... on Rejection { code message }
    }
  }`;

class Mismatch extends Error {}

function required(name) {
  const value = process.env[name];
  if (!value) throw new Mismatch(`environment variable ${name} is required`);
  return value;
}

function positiveInt(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Mismatch(`${name} must be an integer`);
  return value;
}

function check(condition, message) {
  if (!condition) throw new Mismatch(message);
}

function same(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

function describe(problem) {
  if (problem instanceof Error) return problem.message;
  if (Array.isArray(problem)) return JSON.stringify(problem); // GraphQL errors
  if (problem && typeof problem === "object" && "code" in problem) {
    return `WebSocket closed with code ${problem.code} (${problem.reason || "no reason"})`;
  }
  return String(problem);
}

const startedAt = performance.now();
const elapsed = () => Math.round(performance.now() - startedAt);

let config;

function loadConfig() {
  const loaded = {
    httpUrl: new URL("/graphql", required("MPS_GATEWAY_URL")).toString(),
    apiKey: required("MPS_API_KEY"),
    debitedAccountId: required("MPS_DEBITED_ACCOUNT_ID"),
    creditedAccountId: required("MPS_CREDITED_ACCOUNT_ID"),
    bankAccountId: required("MPS_BANK_ACCOUNT_ID"),
    stepTimeoutMs: positiveInt("MPS_STEP_TIMEOUT_MS", 10_000),
    timeoutMs: positiveInt("MPS_TIMEOUT_MS", 60_000),
    minPings: positiveInt("MPS_MIN_PINGS", 0),
  };
  return { ...loaded, wsUrl: loaded.httpUrl.replace(/^http/, "ws") };
}

// ---- GraphQL over HTTP ---------------------------------------------------------------------

async function graphql(query, variables) {
  const response = await fetch(config.httpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${config.apiKey}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(config.stepTimeoutMs),
  });
  const text = await response.text();
  check(response.ok, `POST /graphql answered HTTP ${response.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text);
  check(!body.errors?.length, `POST /graphql errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function success(payload, typename, what) {
  check(
    payload.__typename === typename,
    `${what}: expected ${typename}, got ${payload.__typename}: ${payload.message ?? ""}`,
  );
  return payload;
}

async function createPayOut(amount) {
  const input = {
    debitedAccountId: config.debitedAccountId,
    bankAccountId: config.bankAccountId,
    amount: { amount, currency: "EUR" },
    idempotencyKey: `follow-pay-out-${randomUUID()}`,
  };
  const data = await graphql(CREATE_PAY_OUT, { input });
  const { payOut } = success(data.createPayOut, "CreatePayOutSuccess", "createPayOut");
  same(payOut.status, "CREATED", "a new pay-out's status");
  return payOut;
}

async function simulatePayOut(payOutId, outcome) {
  const input = { payOutId, outcome, reason: outcome === "FAILED" ? "Closed account" : null };
  const data = await graphql(SIMULATE_PAY_OUT, { input });
  const { object } = success(data.simulatePayOut, "SimulateSuccess", "simulatePayOut");
  same(object.status, outcome, `pay-out ${payOutId} after simulatePayOut`);
  return object;
}

async function createTransfer(amount) {
  const input = {
    debitedAccountId: config.debitedAccountId,
    creditedAccountId: config.creditedAccountId,
    amount: { amount, currency: "EUR" },
    idempotencyKey: `follow-transfer-${randomUUID()}`,
  };
  const data = await graphql(CREATE_TRANSFER, { input });
  const { transfer } = success(data.createTransfer, "CreateTransferSuccess", "createTransfer");
  same(transfer.status, "SUCCEEDED", "a transfer's status");
  return transfer;
}

/** Platform.events after `after` (null: from the start), every page, oldest first. */
async function readLog(after) {
  const events = [];
  let cursor = after;
  for (;;) {
    const data = await graphql(PLATFORM_EVENTS, { first: 100, after: cursor });
    const page = data.platform.events;
    events.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return events;
    cursor = page.pageInfo.endCursor;
  }
}

// ---- GraphQL over WebSocket (graphql-ws) ---------------------------------------------------

/** A graphql-ws client that counts keep-alive traffic and reports when its socket closes. */
function connect(label, apiKey = config.apiKey) {
  const stats = { label, connected: 0, pingsReceived: 0, pongsSent: 0, closes: [] };
  let onClosed;
  const closed = new Promise((resolve) => {
    onClosed = resolve;
  });
  const client = createClient({
    url: config.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${apiKey}` },
    // A silent retry would re-send the original `after` and replay events twice: fail loudly.
    retryAttempts: 0,
    connectionAckWaitTimeout: config.stepTimeoutMs,
    on: {
      connected: () => {
        stats.connected += 1;
      },
      ping: (received) => {
        if (received) stats.pingsReceived += 1; // graphql-ws answers with a pong by itself
      },
      pong: (received) => {
        if (!received) stats.pongsSent += 1;
      },
      closed: (event) => {
        stats.closes.push({ code: event?.code ?? null, reason: event?.reason || null });
        onClosed(event);
      },
    },
  });
  async function disconnect() {
    await client.dispose();
    const timeout = sleep(config.stepTimeoutMs).then(() => {
      throw new Mismatch(`${label}: the WebSocket did not close after dispose()`);
    });
    await Promise.race([closed, timeout]);
  }
  return { client, stats, disconnect };
}

/** One subscription to Subscription.events, collecting what it receives. */
function follow(client, variables, label) {
  const received = [];
  const waiters = new Set();
  let failure = null;
  let completed = false;
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const unsubscribe = client.subscribe(
    { query: EVENTS, variables },
    {
      next: (result) => {
        if (result.errors?.length) {
          failure = new Mismatch(`${label}: GraphQL errors ${JSON.stringify(result.errors)}`);
        } else {
          received.push({ ...result.data.events, receivedAtMs: elapsed() });
        }
        wake();
      },
      error: (problem) => {
        failure = new Mismatch(`${label}: ${describe(problem)}`);
        wake();
      },
      complete: () => {
        completed = true;
        wake();
      },
    },
  );
  const types = () => received.map((event) => event.type).join(", ") || "nothing";

  /** The first `count` events, once received (bounded by the step timeout). */
  function until(count, what) {
    return new Promise((resolve, reject) => {
      const settle = (outcome) => {
        clearTimeout(timer);
        waiters.delete(poll);
        outcome();
      };
      const poll = () => {
        if (failure) settle(() => reject(failure));
        else if (received.length >= count) settle(() => resolve(received.slice(0, count)));
        else if (completed) {
          const error = new Mismatch(`${label}: completed while waiting for ${what} (${types()})`);
          settle(() => reject(error));
        }
      };
      const timer = setTimeout(() => {
        const error = new Mismatch(
          `${label}: no ${what} within ${config.stepTimeoutMs} ms; received: ${types()}`,
        );
        settle(() => reject(error));
      }, config.stepTimeoutMs);
      waiters.add(poll);
      poll();
    });
  }

  /** Nothing more arrives for `ms` (a duplicate or stray event would show up here). */
  async function quiet(ms, expectedCount) {
    await sleep(ms);
    if (failure) throw failure;
    check(
      received.length === expectedCount,
      `${label}: expected ${expectedCount} event(s), received ${received.length}: ${types()}`,
    );
  }

  return { received, until, quiet, unsubscribe };
}

async function waitForPings(stats, count) {
  const deadline = performance.now() + config.stepTimeoutMs;
  while (stats.pingsReceived < count) {
    check(
      performance.now() < deadline,
      `${stats.label}: ${stats.pingsReceived} keep-alive ping(s) in ${config.stepTimeoutMs} ms,` +
        ` expected at least ${count}`,
    );
    await sleep(20);
  }
}

function sameEvents(received, logged, what) {
  same(
    received.map(({ id, cursor, type, objectId }) => ({ id, cursor, type, objectId })),
    logged.map(({ id, cursor, type, objectId }) => ({ id, cursor, type, objectId })),
    what,
  );
}

// ---- The run --------------------------------------------------------------------------------

async function main() {
  const timings = {};
  const mark = (name) => {
    timings[name] = elapsed();
  };

  // Phase 0: a wrong key in connection_init is refused with close code 4403.
  const stranger = connect("wrong key", "mps_test_not-a-real-key");
  const refusedSub = follow(stranger.client, {}, "wrong key");
  const refusal = await refusedSub.until(1, "the refusal").then(
    (events) => {
      throw new Mismatch(`a wrong key received events: ${JSON.stringify(events)}`);
    },
    (error) => error.message,
  );
  await stranger.disconnect();
  same(stranger.stats.connected, 0, "connection_ack sent to a wrong key");
  same(stranger.stats.closes[0]?.code, 4403, `the close code for a wrong key (${refusal})`);
  mark("wrongKeyRefused");

  // Phase 1: follow one pay-out from CREATED to SUCCEEDED.
  const before = await readLog(null);
  const startCursor = before.at(-1)?.cursor ?? null;
  const first = connect("first connection");
  const payOut = await createPayOut(2_500);
  const byPayOut = follow(first.client, { after: startCursor, objectId: payOut.id }, "pay-out");
  const [created] = await byPayOut.until(1, "PAY_OUT_CREATED");
  mark("payOutCreatedReceived");
  same(created.object?.status, "CREATED", "PAY_OUT_CREATED's object status (not yet settled)");
  await simulatePayOut(payOut.id, "SUCCEEDED");
  const followed = await byPayOut.until(3, "PAY_OUT_PENDING and PAY_OUT_SUCCESSFUL");
  mark("payOutSucceededReceived");
  same(
    followed.map((e) => [e.type, e.previousStatus, e.status, e.objectId, e.object?.__typename]),
    [
      ["PAY_OUT_CREATED", null, "CREATED", payOut.id, "PayOut"],
      ["PAY_OUT_PENDING", "CREATED", "PENDING", payOut.id, "PayOut"],
      ["PAY_OUT_SUCCESSFUL", "PENDING", "SUCCEEDED", payOut.id, "PayOut"],
    ],
    "the followed pay-out's events (type, previousStatus, status, objectId, object)",
  );
  same(followed.at(-1).object.status, "SUCCEEDED", "the pay-out's current status");
  await byPayOut.quiet(200, 3);
  const ofPayOut = (await readLog(startCursor)).filter((e) => e.objectId === payOut.id);
  sameEvents(followed, ofPayOut, "the followed events against Platform.events");
  const lastCursor = followed.at(-1).cursor;

  byPayOut.unsubscribe();
  await first.disconnect();
  mark("disconnected");

  // Phase 2: events nobody is listening to.
  const failing = await createPayOut(1_000);
  await simulatePayOut(failing.id, "FAILED");
  const transfer = await createTransfer(500);
  const missedLog = await readLog(lastCursor);
  same(
    missedLog.map((e) => [e.type, e.objectId]),
    [
      ["PAY_OUT_CREATED", failing.id],
      ["PAY_OUT_PENDING", failing.id],
      ["PAY_OUT_FAILED", failing.id],
      ["TRANSFER_SUCCESSFUL", transfer.id],
    ],
    "Platform.events after the last cursor received (what the script did while disconnected)",
  );
  mark("missedEventsMade");

  // Phase 3: resume after the last cursor, then one live event.
  const second = connect("second connection");
  const resumed = follow(second.client, { after: lastCursor }, "resumed subscription");
  const replayed = await resumed.until(missedLog.length, `${missedLog.length} missed events`);
  mark("missedEventsReceived");
  sameEvents(replayed, missedLog, "the replayed events against Platform.events");
  const live = await createTransfer(300);
  const all = await resumed.until(missedLog.length + 1, "the live TRANSFER_SUCCESSFUL");
  mark("liveEventReceived");
  same(
    [all.at(-1).type, all.at(-1).objectId, all.at(-1).object?.transferStatus],
    ["TRANSFER_SUCCESSFUL", live.id, "SUCCEEDED"],
    "the live event",
  );
  await waitForPings(second.stats, config.minPings);
  await resumed.quiet(300, missedLog.length + 1);
  sameEvents(all, await readLog(lastCursor), "the resumed stream against Platform.events");
  resumed.unsubscribe();
  await second.disconnect();
  mark("finished");

  const ids = [...followed, ...all].map((event) => event.id);
  const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
  check(duplicates.length === 0, `duplicate events received: ${duplicates.join(", ")}`);

  return {
    ok: true,
    websocket: config.wsUrl,
    wrongKey: stranger.stats.closes[0],
    payOut: { id: payOut.id, events: followed },
    resumedAfter: lastCursor,
    missed: {
      expectedTypes: missedLog.map((e) => e.type),
      expectedCount: missedLog.length,
      receivedCount: replayed.length,
      events: replayed,
    },
    live: all.at(-1),
    eventsReceived: ids.length,
    duplicates: duplicates.length,
    connections: [first.stats, second.stats],
    timingsMs: timings,
  };
}

try {
  config = loadConfig();
  const watchdog = setTimeout(() => {
    process.stderr.write(`follow-pay-out: timed out after ${config.timeoutMs} ms\n`);
    process.exit(2);
  }, config.timeoutMs);
  watchdog.unref();
  const summary = await main();
  process.stdout.write(`${JSON.stringify(summary)}\n`, () => process.exit(0));
} catch (error) {
  const message = error instanceof Mismatch ? error.message : (error?.stack ?? String(error));
  process.stderr.write(`follow-pay-out: ${message}\n`);
  process.exit(1);
}
