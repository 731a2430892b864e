// Every GraphQL operation of the app, typed by GraphQL Code Generator (src/gql/, generated
// from these documents and schema/schema.graphql by `npm run codegen`).
import { graphql } from "./gql";

export const WalletQuery = graphql(`
  query Wallet {
    viewer {
      id
      email
      holder {
        __typename
        id
        ... on NaturalPerson {
          firstName
          lastName
        }
        ... on LegalPerson {
          legalName
        }
      }
      accounts(first: 20) {
        totalCount
        nodes {
          id
          label
          currency
          status
          balance {
            amount
            currency
            decimal
          }
        }
      }
    }
  }
`);

export const AccountEntriesQuery = graphql(`
  query AccountEntries(
    $accountId: ID!
    $first: Int
    $after: String
    $last: Int
    $before: String
  ) {
    node(id: $accountId) {
      id
      ... on Account {
        entries(first: $first, after: $after, last: $last, before: $before) {
          totalCount
          pageInfo {
            hasNextPage
            hasPreviousPage
            endCursor
          }
          edges {
            cursor
            node {
              id
              kind
              createdAt
              amount {
                amount
                currency
                decimal
              }
              balanceAfter {
                currency
                decimal
              }
              operation {
                __typename
                ... on Transfer {
                  id
                  label
                }
                ... on PayIn {
                  id
                }
                ... on PayOut {
                  id
                }
                ... on TransferReversal {
                  id
                }
                ... on Refund {
                  id
                }
              }
            }
          }
        }
      }
    }
  }
`);

// Every event of the user: a transfer, a pay-in or a pay-out settling, an account blocked...
// The page refetches the balances and the newest entries on each one.
export const WalletActivitySubscription = graphql(`
  subscription WalletActivity {
    events {
      id
      cursor
      type
      occurredAt
      objectId
    }
  }
`);

export const SendTransferMutation = graphql(`
  mutation SendTransfer($input: CreateTransferInput!) {
    createTransfer(input: $input) {
      __typename
      ... on CreateTransferSuccess {
        idempotentReplay
        transfer {
          id
          status
          amount {
            amount
            currency
            decimal
          }
        }
      }
      ... on Rejection {
        code
        message
      }
    }
  }
`);
