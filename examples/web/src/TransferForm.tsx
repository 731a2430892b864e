// A transfer between accounts: the amount typed as a decimal is sent as an integer of minor
// units. The answer is a union: the transfer, or a typed rejection shown as its __typename and
// message. Each intended transfer has its own idempotency key: kept while the answer is
// unknown (a network error), so that sending again cannot move the money twice; replaced once
// the gateway has answered.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";

import { formatMoney, parseAmount } from "./money";
import { SendTransferMutation } from "./operations";

interface AccountChoice {
  id: string;
  label?: string | null;
  currency: string;
  balance: { decimal: string; currency: string };
}

type Outcome =
  | { kind: "sent"; text: string }
  | { kind: "rejected"; typename: string; message: string }
  | { kind: "invalid"; message: string };

function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // also outside secure contexts
  return `web-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

const OTHER = "other";

export function TransferForm({ accounts }: { accounts: AccountChoice[] }) {
  const [from, setFrom] = useState(accounts[0]?.id ?? "");
  const [to, setTo] = useState(accounts[1]?.id ?? OTHER);
  const [otherId, setOtherId] = useState("");
  const [amount, setAmount] = useState("");
  const [label, setLabel] = useState("");
  const [key, setKey] = useState(newIdempotencyKey);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [{ fetching }, send] = useMutation(SendTransferMutation);

  const debited = accounts.find((account) => account.id === from);
  const currency = debited?.currency ?? "EUR";

  async function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = parseAmount(amount, currency);
    if (!parsed.ok) return setOutcome({ kind: "invalid", message: parsed.message });
    const creditedAccountId = to === OTHER ? otherId.trim() : to;
    const input = {
      debitedAccountId: from,
      creditedAccountId,
      amount: { amount: parsed.minorUnits, currency },
      label: label.trim() || null,
      idempotencyKey: key,
    };
    const result = await send({ input });
    if (result.error) {
      // The answer is unknown: keep the key, so that sending again is safe.
      return setOutcome({ kind: "rejected", typename: "Error", message: result.error.message });
    }
    setKey(newIdempotencyKey());
    const payload = result.data!.createTransfer;
    if (payload.__typename === "CreateTransferSuccess") {
      setAmount("");
      const replay = payload.idempotentReplay ? " (already sent)" : "";
      return setOutcome({ kind: "sent", text: `Sent ${formatMoney(payload.transfer.amount)}${replay}.` });
    }
    setOutcome({ kind: "rejected", typename: payload.__typename, message: payload.message });
  }

  return (
    <form className="card transfer" aria-label="Transfer" onSubmit={submit}>
      <h2>Transfer</h2>
      <label>
        From
        <select value={from} onChange={(event) => setFrom(event.target.value)}>
          {accounts.map((account) => (
            <option key={account.id} value={account.id}>
              {account.label ?? account.id} ({formatMoney(account.balance)})
            </option>
          ))}
        </select>
      </label>
      <label>
        To
        <select value={to} onChange={(event) => setTo(event.target.value)}>
          {accounts.map((account) => (
            <option key={account.id} value={account.id}>
              {account.label ?? account.id}
            </option>
          ))}
          <option value={OTHER}>Another account (by id)…</option>
        </select>
      </label>
      {to === OTHER ? (
        <label>
          Account id
          <input value={otherId} onChange={(event) => setOtherId(event.target.value)} required />
        </label>
      ) : null}
      <label>
        Amount ({currency})
        <input
          inputMode="decimal"
          placeholder="0.00"
          value={amount}
          onChange={(event) => setAmount(event.target.value)}
          required
        />
      </label>
      <label>
        Label (optional)
        <input value={label} maxLength={100} onChange={(event) => setLabel(event.target.value)} />
      </label>
      <button type="submit" disabled={fetching}>
        {fetching ? "Sending…" : "Send"}
      </button>
      <div role="status" className={`outcome ${outcome?.kind ?? ""}`} data-testid="transfer-outcome">
        {outcome?.kind === "sent" ? outcome.text : null}
        {outcome?.kind === "invalid" ? outcome.message : null}
        {outcome?.kind === "rejected" ? (
          <>
            <strong>{outcome.typename}</strong>: {outcome.message}
          </>
        ) : null}
      </div>
    </form>
  );
}
