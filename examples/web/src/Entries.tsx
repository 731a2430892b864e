// One account's ledger entries, newest first, a page at a time: "Load more" asks for the page
// after the last cursor seen (the connection's `pageInfo.endCursor`). Cursors stay valid as
// entries are added, so when activity brings new entries, the first page is fetched again and
// the entries not shown yet are put on top; the pages already loaded stay as they are.
import { useCallback, useEffect, useState } from "react";
import { useClient } from "urql";

import type { AccountEntriesQuery as EntriesData } from "./gql/graphql";
import { formatMoney } from "./money";
import { AccountEntriesQuery } from "./operations";

const PAGE_SIZE = 5;

type Connection = Extract<NonNullable<EntriesData["node"]>, { entries: unknown }>["entries"];
type Entry = Connection["nodes"][number];

interface Loaded {
  accountId: string;
  entries: Entry[];
  endCursor: string | null;
  hasNextPage: boolean;
  totalCount: number;
}

function firstPage(accountId: string, page: Connection): Loaded {
  return {
    accountId,
    entries: page.nodes,
    endCursor: page.pageInfo.endCursor ?? null,
    hasNextPage: page.pageInfo.hasNextPage,
    totalCount: page.totalCount,
  };
}

function merge(shown: Loaded, page: Connection, placement: "newer" | "older"): Loaded {
  const known = new Set(shown.entries.map((entry) => entry.id));
  const fresh = page.nodes.filter((entry) => !known.has(entry.id));
  if (placement === "newer") {
    if (fresh.length === page.nodes.length && shown.entries.length > 0) {
      return firstPage(shown.accountId, page); // more news than a page: start again from them
    }
    return { ...shown, entries: [...fresh, ...shown.entries], totalCount: page.totalCount };
  }
  return {
    ...shown,
    entries: [...shown.entries, ...fresh],
    endCursor: page.pageInfo.endCursor ?? shown.endCursor,
    hasNextPage: page.pageInfo.hasNextPage,
    totalCount: page.totalCount,
  };
}

export function Entries({
  account,
  activity,
}: {
  account: { id: string; label?: string | null };
  activity: number;
}) {
  const client = useClient();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const fetchPage = useCallback(
    async (after: string | null): Promise<Connection | null> => {
      const variables = { accountId: account.id, first: PAGE_SIZE, after };
      const result = await client
        .query(AccountEntriesQuery, variables, { requestPolicy: "network-only" })
        .toPromise();
      if (result.error) {
        setError(result.error.message);
        return null;
      }
      const node = result.data?.node;
      return node && "entries" in node ? node.entries : null;
    },
    [client, account.id],
  );

  // The first page: on opening the account, and again on each activity (new entries on top).
  useEffect(() => {
    let current = true;
    fetchPage(null).then((page) => {
      if (!current || page === null) return;
      setLoaded((shown) =>
        shown?.accountId === account.id ? merge(shown, page, "newer") : firstPage(account.id, page),
      );
    });
    return () => {
      current = false;
    };
  }, [fetchPage, account.id, activity]);

  async function loadMore() {
    if (!loaded) return;
    setBusy(true);
    const page = await fetchPage(loaded.endCursor);
    setBusy(false);
    const accountId = loaded.accountId; // the page belongs to it, whatever is shown by now
    if (page) {
      setLoaded((shown) => (shown?.accountId === accountId ? merge(shown, page, "older") : shown));
    }
  }

  const shown = loaded?.accountId === account.id ? loaded : null;
  return (
    <section aria-label="Entries" className="card entries">
      <h2>
        Entries of {account.label ?? "the account"}
        {shown ? <span className="muted small"> ({shown.entries.length} of {shown.totalCount})</span> : null}
      </h2>
      {error ? <p role="alert">{error}</p> : null}
      {!shown ? (
        <p className="muted">Loading…</p>
      ) : shown.entries.length === 0 ? (
        <p className="muted">No entries yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>What</th>
              <th className="number">Amount</th>
              <th className="number">Balance after</th>
            </tr>
          </thead>
          <tbody>
            {shown.entries.map((entry) => (
              <tr key={entry.id} data-entry-id={entry.id}>
                <td>{new Date(entry.createdAt).toLocaleString()}</td>
                <td>
                  {entry.kind.replaceAll("_", " ").toLowerCase()}
                  {entry.operation.__typename === "Transfer" && entry.operation.label
                    ? ` · ${entry.operation.label}`
                    : ""}
                </td>
                <td className={`number ${entry.amount.amount < 0 ? "debit" : "credit"}`}>
                  {formatMoney(entry.amount)}
                </td>
                <td className="number">{formatMoney(entry.balanceAfter)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown?.hasNextPage ? (
        <button type="button" onClick={loadMore} disabled={busy}>
          {busy ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </section>
  );
}
