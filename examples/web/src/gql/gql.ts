/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Wallet {\n    viewer {\n      id\n      email\n      holder {\n        __typename\n        id\n        ... on NaturalPerson {\n          firstName\n          lastName\n        }\n        ... on LegalPerson {\n          legalName\n        }\n      }\n      accounts(first: 20) {\n        totalCount\n        nodes {\n          id\n          label\n          currency\n          status\n          balance {\n            amount\n            currency\n            decimal\n          }\n        }\n      }\n    }\n  }\n": typeof types.WalletDocument,
    "\n  query AccountEntries(\n    $accountId: ID!\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n  ) {\n    node(id: $accountId) {\n      id\n      ... on Account {\n        entries(first: $first, after: $after, last: $last, before: $before) {\n          totalCount\n          pageInfo {\n            hasNextPage\n            hasPreviousPage\n            endCursor\n          }\n          edges {\n            cursor\n            node {\n              id\n              kind\n              createdAt\n              amount {\n                amount\n                currency\n                decimal\n              }\n              balanceAfter {\n                currency\n                decimal\n              }\n              operation {\n                __typename\n                ... on Transfer {\n                  id\n                  label\n                }\n                ... on PayIn {\n                  id\n                }\n                ... on PayOut {\n                  id\n                }\n                ... on TransferReversal {\n                  id\n                }\n                ... on Refund {\n                  id\n                }\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n": typeof types.AccountEntriesDocument,
    "\n  subscription WalletActivity {\n    events {\n      id\n      cursor\n      type\n      occurredAt\n      objectId\n    }\n  }\n": typeof types.WalletActivityDocument,
    "\n  mutation SendTransfer($input: CreateTransferInput!) {\n    createTransfer(input: $input) {\n      __typename\n      ... on CreateTransferSuccess {\n        idempotentReplay\n        transfer {\n          id\n          status\n          amount {\n            amount\n            currency\n            decimal\n          }\n        }\n      }\n      ... on Rejection {\n        code\n        message\n      }\n    }\n  }\n": typeof types.SendTransferDocument,
};
const documents: Documents = {
    "\n  query Wallet {\n    viewer {\n      id\n      email\n      holder {\n        __typename\n        id\n        ... on NaturalPerson {\n          firstName\n          lastName\n        }\n        ... on LegalPerson {\n          legalName\n        }\n      }\n      accounts(first: 20) {\n        totalCount\n        nodes {\n          id\n          label\n          currency\n          status\n          balance {\n            amount\n            currency\n            decimal\n          }\n        }\n      }\n    }\n  }\n": types.WalletDocument,
    "\n  query AccountEntries(\n    $accountId: ID!\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n  ) {\n    node(id: $accountId) {\n      id\n      ... on Account {\n        entries(first: $first, after: $after, last: $last, before: $before) {\n          totalCount\n          pageInfo {\n            hasNextPage\n            hasPreviousPage\n            endCursor\n          }\n          edges {\n            cursor\n            node {\n              id\n              kind\n              createdAt\n              amount {\n                amount\n                currency\n                decimal\n              }\n              balanceAfter {\n                currency\n                decimal\n              }\n              operation {\n                __typename\n                ... on Transfer {\n                  id\n                  label\n                }\n                ... on PayIn {\n                  id\n                }\n                ... on PayOut {\n                  id\n                }\n                ... on TransferReversal {\n                  id\n                }\n                ... on Refund {\n                  id\n                }\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n": types.AccountEntriesDocument,
    "\n  subscription WalletActivity {\n    events {\n      id\n      cursor\n      type\n      occurredAt\n      objectId\n    }\n  }\n": types.WalletActivityDocument,
    "\n  mutation SendTransfer($input: CreateTransferInput!) {\n    createTransfer(input: $input) {\n      __typename\n      ... on CreateTransferSuccess {\n        idempotentReplay\n        transfer {\n          id\n          status\n          amount {\n            amount\n            currency\n            decimal\n          }\n        }\n      }\n      ... on Rejection {\n        code\n        message\n      }\n    }\n  }\n": types.SendTransferDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Wallet {\n    viewer {\n      id\n      email\n      holder {\n        __typename\n        id\n        ... on NaturalPerson {\n          firstName\n          lastName\n        }\n        ... on LegalPerson {\n          legalName\n        }\n      }\n      accounts(first: 20) {\n        totalCount\n        nodes {\n          id\n          label\n          currency\n          status\n          balance {\n            amount\n            currency\n            decimal\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Wallet {\n    viewer {\n      id\n      email\n      holder {\n        __typename\n        id\n        ... on NaturalPerson {\n          firstName\n          lastName\n        }\n        ... on LegalPerson {\n          legalName\n        }\n      }\n      accounts(first: 20) {\n        totalCount\n        nodes {\n          id\n          label\n          currency\n          status\n          balance {\n            amount\n            currency\n            decimal\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AccountEntries(\n    $accountId: ID!\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n  ) {\n    node(id: $accountId) {\n      id\n      ... on Account {\n        entries(first: $first, after: $after, last: $last, before: $before) {\n          totalCount\n          pageInfo {\n            hasNextPage\n            hasPreviousPage\n            endCursor\n          }\n          edges {\n            cursor\n            node {\n              id\n              kind\n              createdAt\n              amount {\n                amount\n                currency\n                decimal\n              }\n              balanceAfter {\n                currency\n                decimal\n              }\n              operation {\n                __typename\n                ... on Transfer {\n                  id\n                  label\n                }\n                ... on PayIn {\n                  id\n                }\n                ... on PayOut {\n                  id\n                }\n                ... on TransferReversal {\n                  id\n                }\n                ... on Refund {\n                  id\n                }\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AccountEntries(\n    $accountId: ID!\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n  ) {\n    node(id: $accountId) {\n      id\n      ... on Account {\n        entries(first: $first, after: $after, last: $last, before: $before) {\n          totalCount\n          pageInfo {\n            hasNextPage\n            hasPreviousPage\n            endCursor\n          }\n          edges {\n            cursor\n            node {\n              id\n              kind\n              createdAt\n              amount {\n                amount\n                currency\n                decimal\n              }\n              balanceAfter {\n                currency\n                decimal\n              }\n              operation {\n                __typename\n                ... on Transfer {\n                  id\n                  label\n                }\n                ... on PayIn {\n                  id\n                }\n                ... on PayOut {\n                  id\n                }\n                ... on TransferReversal {\n                  id\n                }\n                ... on Refund {\n                  id\n                }\n              }\n            }\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription WalletActivity {\n    events {\n      id\n      cursor\n      type\n      occurredAt\n      objectId\n    }\n  }\n"): (typeof documents)["\n  subscription WalletActivity {\n    events {\n      id\n      cursor\n      type\n      occurredAt\n      objectId\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendTransfer($input: CreateTransferInput!) {\n    createTransfer(input: $input) {\n      __typename\n      ... on CreateTransferSuccess {\n        idempotentReplay\n        transfer {\n          id\n          status\n          amount {\n            amount\n            currency\n            decimal\n          }\n        }\n      }\n      ... on Rejection {\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation SendTransfer($input: CreateTransferInput!) {\n    createTransfer(input: $input) {\n      __typename\n      ... on CreateTransferSuccess {\n        idempotentReplay\n        transfer {\n          id\n          status\n          amount {\n            amount\n            currency\n            decimal\n          }\n        }\n      }\n      ... on Rejection {\n        code\n        message\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;