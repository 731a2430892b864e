// Where the gateway is and who the page acts for, read once at start-up.
//
// The gateway URL: `?gateway=` in the page's address, else VITE_GATEWAY_URL at build time, else
// the gateway's default address. The user token: `?token=` (then kept in sessionStorage for
// reloads and removed from the address bar, so that it stays out of the history, bookmarks and
// Referer headers), else VITE_USER_TOKEN. It is a user token, never a platform API key: a
// platform's backend issues one per user (`createUserToken`; examples/web/demo_token.py here).

const TOKEN_STORAGE_KEY = "mps-example-user-token";
const DEFAULT_GATEWAY_URL = "http://127.0.0.1:8000";

export interface Config {
  gatewayUrl: string; // http(s)://host:port, without a trailing slash
  token: string | null;
}

function takeToken(params: URLSearchParams): string | null {
  const fromAddress = params.get("token");
  if (fromAddress) {
    sessionStorage.setItem(TOKEN_STORAGE_KEY, fromAddress);
    params.delete("token");
    const rest = params.toString();
    history.replaceState(history.state, "", `${location.pathname}${rest ? `?${rest}` : ""}`);
    return fromAddress;
  }
  return sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? import.meta.env.VITE_USER_TOKEN ?? null;
}

export function readConfig(): Config {
  const params = new URLSearchParams(location.search);
  const gateway = params.get("gateway") ?? import.meta.env.VITE_GATEWAY_URL ?? DEFAULT_GATEWAY_URL;
  return { gatewayUrl: gateway.replace(/\/+$/, ""), token: takeToken(params) };
}
