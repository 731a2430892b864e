// One account's ledger entries, newest first, a page at a time: "Load more" asks for the page
// after the last cursor seen (`first`/`after`, from the connection's `pageInfo.endCursor`).
// On each activity the page asks for what came in since, the entries before the newest one
// shown (`last`/`before` its cursor), and puts them on top; cursors stay valid as entries are
// added, so the pages already loaded stay as they are. Should more than NEWER_MAX have come
// in (`hasPreviousPage`), it starts again from the first page rather than leave a gap.
import { useCallback, useEffect, useRef, useState } from "react";
import { useClient } from "urql";

import type { AccountEntriesQuery as EntriesData } from "./gql/graphql";
import { formatMoney } from "./money";
import { AccountEntriesQuery } from "./operations";

const PAGE_SIZE = 5;
const NEWER_MAX = 50;

type Connection = Extract<NonNullable<EntriesData["node"]>, { entries: unknown }>["entries"];
type Edge = Connection["edges"][number];
type Window = { first: number; after: string | null } | { last: number; before: string };

interface Loaded {
  accountId: string;
  edges: Edge[];
  endCursor: string | null;
  hasNextPage: boolean;
  totalCount: number;
}

function firstPage(accountId: string, page: Connection): Loaded {
  return {
    accountId,
    edges: page.edges,
    endCursor: page.pageInfo.endCursor ?? null,
    hasNextPage: page.pageInfo.hasNextPage,
    totalCount: page.totalCount,
  };
}

function withNewer(shown: Loaded, page: Connection): Loaded {
  return { ...shown, edges: [...page.edges, ...shown.edges], totalCount: page.totalCount };
}

function withOlder(shown: Loaded, page: Connection): Loaded {
  return {
    ...shown,
    edges: [...shown.edges, ...page.edges],
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
    async (window: Window): Promise<Connection | null> => {
      const variables = { accountId: account.id, ...window };
      const result = await client
        .query(AccountEntriesQuery, variables, { requestPolicy: "network-only" })
        .toPromise();
      if (result.error) {
        setError(result.error.message);
        return null;
      }
      setError(null);
      const node = result.data?.node;
      return node && "entries" in node ? node.entries : null;
    },
    [client, account.id],
  );

  // The first page when the account is opened; on each activity, what came in since. The
  // newest cursor shown is read through a ref: a new top entry is no reason to fetch again.
  const shown = loaded?.accountId === account.id ? loaded : null;
  const newest = useRef<string | null>(null);
  newest.current = shown?.edges[0]?.cursor ?? null;
  useEffect(() => {
    let current = true;
    const refresh = async () => {
      const before = newest.current;
      if (before !== null) {
        const page = await fetchPage({ last: NEWER_MAX, before });
        if (!current || page === null) return;
        if (!page.pageInfo.hasPreviousPage) {
          setLoaded((old) => (old?.accountId === account.id ? withNewer(old, page) : old));
          return;
        }
      }
      const page = await fetchPage({ first: PAGE_SIZE, after: null });
      if (current && page !== null) setLoaded(firstPage(account.id, page));
    };
    void refresh();
    return () => {
      current = false;
    };
  }, [fetchPage, account.id, activity]);

  async function loadMore() {
    if (!shown) return;
    setBusy(true);
    const page = await fetchPage({ first: PAGE_SIZE, after: shown.endCursor });
    setBusy(false);
    const accountId = shown.accountId; // the page belongs to it, whatever is shown by now
    if (page) {
      setLoaded((old) => (old?.accountId === accountId ? withOlder(old, page) : old));
    }
  }

  return (
    <section aria-label="Entries" className="card entries">
      <h2>
        Entries of {account.label ?? "the account"}
        {shown ? (
          <span className="muted small">
            {" "}
            ({shown.edges.length} of {shown.totalCount})
          </span>
        ) : null}
      </h2>
      {error ? <p role="alert">{error}</p> : null}
      {!shown ? (
        <p className="muted">Loading…</p>
      ) : shown.edges.length === 0 ? (
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
            {shown.edges.map(({ node: entry }) => (
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

