// What the HTTP client scripts (urql-client.mjs, apollo-client.mjs, graphql-sse-client.mjs)
// share: their input, the operations they send, checks, a fetch that records each exchange,
// and the run itself.
//
// Input (environment): MPS_GATEWAY_URL (http://host:port), MPS_API_KEY,
// MPS_DEBITED_ACCOUNT_ID, MPS_CREDITED_ACCOUNT_ID (same currency, EUR), MPS_BANK_ACCOUNT_ID;
// optional MPS_STEP_TIMEOUT_MS (10000).
// Output: one JSON summary on stdout; exit 1 with a message on stderr on any mismatch.

import { randomUUID } from "node:crypto";

export class Mismatch extends Error {}

function required(name) {
  const value = process.env[name];
  if (!value) throw new Mismatch(`environment variable ${name} is required`);
  return value;
}

export function loadConfig() {
  return {
    httpUrl: new URL("/graphql", required("MPS_GATEWAY_URL")).toString(),
    apiKey: required("MPS_API_KEY"),
    debitedAccountId: required("MPS_DEBITED_ACCOUNT_ID"),
    creditedAccountId: required("MPS_CREDITED_ACCOUNT_ID"),
    bankAccountId: required("MPS_BANK_ACCOUNT_ID"),
    stepTimeoutMs: Number(process.env.MPS_STEP_TIMEOUT_MS || 10_000),
  };
}

export function check(condition, message) {
  if (!condition) throw new Mismatch(message);
}

export const EVENT_LOG = `
  query EventLog($after: String) {
    platform {
      id
      name
      events(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id cursor }
      }
    }
  }`;

export const FOLLOW_EVENTS = `
  subscription FollowEvents($after: String, $types: [EventType!]) {
    events(after: $after, types: $types) { id cursor type status objectId }
  }`;

export const CREATE_TRANSFER = `
  mutation CreateTransfer($input: CreateTransferInput!) {
    createTransfer(input: $input) {
      __typename
      ... on CreateTransferSuccess { transfer { id status } }
      ... on Rejection { code message }
    }
  }`;

export const CREATE_PAY_OUT = `
  mutation CreatePayOut($input: CreatePayOutInput!) {
    createPayOut(input: $input) {
      __typename
      ... on CreatePayOutSuccess { payOut { id status } }
      ... on Rejection { code message }
    }
  }`;

export const SIMULATE_PAY_OUT = `
  mutation SimulatePayOut($input: SimulatePayOutInput!) {
    simulatePayOut(input: $input) {
      __typename
      ... on SimulateSuccess { object { id ... on PayOut { status } } }
      ... on Rejection { code message }
    }
  }`;

export function transferInput(config, amount) {
  return {
    debitedAccountId: config.debitedAccountId,
    creditedAccountId: config.creditedAccountId,
    amount: { amount, currency: "EUR" },
    idempotencyKey: `client-transfer-${randomUUID()}`,
  };
}

export function payOutInput(config, amount) {
  return {
    debitedAccountId: config.debitedAccountId,
    bankAccountId: config.bankAccountId,
    amount: { amount, currency: "EUR" },
    idempotencyKey: `client-pay-out-${randomUUID()}`,
  };
}

/** The last cursor of the platform's event log, read page by page with `query(variables)`. */
export async function lastCursor(query) {
  let after = null;
  for (;;) {
    const page = (await query({ after })).platform.events;
    after = page.nodes.at(-1)?.cursor ?? after;
    if (!page.pageInfo.hasNextPage) return after;
  }
}

function operationOf(url, init) {
  if (typeof init?.body === "string") {
    const body = JSON.parse(init.body);
    return { operationName: body.operationName ?? null, body };
  }
  const params = new URL(url).searchParams;
  const extensions = params.get("extensions");
  return {
    operationName: params.get("operationName"),
    body: {
      query: params.get("query") ?? undefined,
      extensions: extensions ? JSON.parse(extensions) : undefined,
    },
  };
}

function headerOf(headers, name) {
  if (!headers) return null;
  if (typeof headers.get === "function") return headers.get(name);
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? null : headers[key];
}

/** `fetch`, recording each exchange into `log` (a JSON body's errors too, read from a clone). */
export function recordingFetch(log) {
  return async (url, init) => {
    const response = await fetch(url, init);
    const { operationName, body } = operationOf(String(url), init);
    const contentType = response.headers.get("content-type");
    const entry = {
      operationName,
      method: init?.method ?? "GET",
      accept: headerOf(init?.headers, "accept"),
      hasQuery: typeof body.query === "string" && body.query.length > 0,
      persistedQuery: body.extensions?.persistedQuery ?? null,
      status: response.status,
      contentType,
    };
    if (contentType && /json/.test(contentType)) {
      const answer = JSON.parse(await response.clone().text());
      entry.hasData = "data" in answer;
      entry.errors = (answer.errors ?? []).map((e) => ({ message: e.message, code: e.extensions?.code }));
    }
    log.push(entry);
    return response;
  };
}

/** Resolves with what `register(resolve, reject)` resolves, or fails after `timeoutMs`. */
export function waitFor(what, timeoutMs, register) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Mismatch(`timed out waiting for ${what}`)), timeoutMs);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Runs `body(config)`, prints its summary, exits 1 on failure. */
export async function main(body) {
  try {
    const summary = await body(loadConfig());
    process.stdout.write(`${JSON.stringify({ ok: true, ...summary })}\n`);
    process.exit(0);
  } catch (problem) {
    const detail = problem instanceof Error ? problem.stack || problem.message : JSON.stringify(problem);
    process.stderr.write(`${detail}\n`);
    process.exit(1);
  }
}
