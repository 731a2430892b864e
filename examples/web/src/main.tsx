import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Provider } from "urql";

import { App, MissingToken } from "./App";
import { connect } from "./client";
import { readConfig } from "./config";
import "./styles.css";

const config = readConfig();
const root = createRoot(document.getElementById("root")!);

if (config.token === null) {
  root.render(<MissingToken gatewayUrl={config.gatewayUrl} />);
} else {
  const gateway = connect(config.gatewayUrl, config.token);
  root.render(
    <StrictMode>
      <Provider value={gateway.client}>
        <App gateway={gateway} gatewayUrl={config.gatewayUrl} />
      </Provider>
    </StrictMode>,
  );
}
