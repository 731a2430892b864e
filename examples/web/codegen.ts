// GraphQL Code Generator (client preset): typed documents for every `graphql(...)` call in
// src/, from the gateway's committed SDL. `npm run codegen` writes src/gql/ (committed, so that
// `npm run build` needs no gateway); `npm run codegen:check` fails when it is out of date.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema/schema.graphql",
  documents: ["src/**/*.tsx", "src/**/*.ts", "!src/gql/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        // Money is integers of minor units; within +/- 2^53 - 1, so a JS number holds it exactly.
        scalars: {
          MinorUnits: "number",
          Currency: "string",
          DateTime: "string",
          Date: "string",
          CountryCode: "string",
          Upload: "never",
        },
      },
    },
  },
};

export default config;
