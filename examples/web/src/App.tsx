// The page: the user's accounts with live balances, the selected account's ledger entries,
// and a transfer form. One subscription (every event of the user) drives the refreshes: each
// event, and each (re)connection of the socket, bumps `activity`, on which the balances and
// the newest entries are fetched again. The first connection counts too: it closes the gap
// between the first fetch and the subscription's start. Nothing polls.
import { useEffect, useState } from "react";
import { useQuery, useSubscription } from "urql";

import type { Gateway, SocketState } from "./client";
import { Entries } from "./Entries";
import { formatMoney } from "./money";
import { WalletActivitySubscription, WalletQuery } from "./operations";
import { TransferForm } from "./TransferForm";

function useActivity(gateway: Gateway): { activity: number; socket: SocketState; events: number } {
  const [socket, setSocket] = useState<SocketState>("connecting");
  const [reconnects, setReconnects] = useState(0);
  useEffect(
    () =>
      gateway.onSocketState((state) => {
        setSocket(state);
        if (state === "live") setReconnects((count) => count + 1);
      }),
    [gateway],
  );
  const [{ data }] = useSubscription(
    { query: WalletActivitySubscription },
    (count: number = 0) => count + 1,
  );
  const events = data ?? 0;
  return { activity: events + reconnects, socket, events };
}

export function App({ gateway, gatewayUrl }: { gateway: Gateway; gatewayUrl: string }) {
  const { activity, socket, events } = useActivity(gateway);
  const [{ data, error, fetching }, refetch] = useQuery({ query: WalletQuery });
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    if (activity > 0) refetch({ requestPolicy: "network-only" });
  }, [activity, refetch]);

  if (error) return <Refused gatewayUrl={gatewayUrl} message={error.message} />;
  if (!data) return <main className="page">{fetching ? "Loading…" : "No data."}</main>;
  const viewer = data.viewer;
  if (!viewer) return <Refused gatewayUrl={gatewayUrl} message="This is not a user token." />;
  const accounts = viewer.accounts.nodes;
  const shown = accounts.find((account) => account.id === selected) ?? accounts[0];
  const holder = viewer.holder;
  const name =
    holder.__typename === "NaturalPerson"
      ? `${holder.firstName} ${holder.lastName}`
      : holder.__typename === "LegalPerson"
        ? holder.legalName
        : viewer.email;

  return (
    <main className="page">
      <header className="top">
        <div>
          <h1>{name}</h1>
          <p className="muted">{viewer.email}</p>
        </div>
        <p className={`socket socket-${socket}`} data-testid="socket-state" title={`${events} events`}>
          {socket === "live" ? "● live" : socket === "connecting" ? "○ connecting…" : "○ offline"}
        </p>
      </header>

      <section aria-label="Accounts" className="accounts">
        {accounts.map((account) => (
          <button
            key={account.id}
            type="button"
            className={`account${account.id === shown?.id ? " selected" : ""}`}
            data-account-id={account.id}
            onClick={() => setSelected(account.id)}
          >
            <span className="label">{account.label ?? "Account"}</span>
            <span className="balance" data-testid="balance">
              {formatMoney(account.balance)}
            </span>
            <span className="muted small">
              {account.status} · {account.id.slice(0, 13)}…
            </span>
          </button>
        ))}
      </section>

      <div className="columns">
        {shown ? <Entries account={shown} activity={activity} /> : <p>No account yet.</p>}
        <TransferForm accounts={accounts} />
      </div>
    </main>
  );
}

function Refused({ gatewayUrl, message }: { gatewayUrl: string; message: string }) {
  return (
    <main className="page">
      <h1>The gateway refused the page</h1>
      <p role="alert">{message}</p>
      <p>
        Is a gateway running at <code>{gatewayUrl}</code>, does it allow this page's origin
        (<code>MPS_CORS_ALLOWED_ORIGINS</code>, <code>MPS_WS_ALLOWED_ORIGINS</code>), and is the
        token still valid? Get a new one with <code>examples/web/demo_token.py</code>.
      </p>
    </main>
  );
}

export function MissingToken({ gatewayUrl }: { gatewayUrl: string }) {
  return (
    <main className="page">
      <h1>A user token is needed</h1>
      <p>
        Run <code>.venv/bin/python examples/web/demo_token.py</code> next to the gateway (
        <code>{gatewayUrl}</code>) and open the address it prints, ending in{" "}
        <code>?token=…</code>.
      </p>
    </main>
  );
}
