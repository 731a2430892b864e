// Amounts travel as integers of the currency's minor unit (cents for EUR), never as floats:
// what a person types ("12.5", "12,50") is read digit by digit into an integer, and what the
// gateway sends is shown from its `decimal` string.

export type ParsedAmount = { ok: true; minorUnits: number } | { ok: false; message: string };

/** Digits after the decimal point in the currency's minor unit (ISO 4217): EUR 2, JPY 0. */
export function minorUnitDigits(currency: string): number {
  const format = new Intl.NumberFormat("en", { style: "currency", currency });
  return format.resolvedOptions().maximumFractionDigits ?? 2;
}

export function parseAmount(text: string, currency: string): ParsedAmount {
  const digits = minorUnitDigits(currency);
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(text.trim());
  if (!match || (match[2] ?? "").length > digits) {
    const example = digits > 0 ? `12.${"5".padEnd(digits, "0")}` : "12";
    return { ok: false, message: `Enter an amount like ${example} (at most ${digits} decimals).` };
  }
  const whole = match[1] + (match[2] ?? "").padEnd(digits, "0");
  const minorUnits = Number(whole.replace(/^0+(?=\d)/, ""));
  if (!Number.isSafeInteger(minorUnits)) {
    return { ok: false, message: "This amount is too large." };
  }
  if (minorUnits <= 0) {
    return { ok: false, message: "Enter an amount above zero." };
  }
  return { ok: true, minorUnits };
}

export function formatMoney(money: { decimal: string; currency: string }): string {
  return `${money.decimal} ${money.currency}`;
}
