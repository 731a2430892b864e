"""The Mutation root, composed from per-domain classes."""

from __future__ import annotations

import strawberry

from gateway.graphql.mutations.money import MoneyMutations
from gateway.graphql.mutations.onboarding import OnboardingMutations
from gateway.graphql.mutations.sandbox import SandboxMutations
from gateway.graphql.mutations.tokens import TokenMutations
from gateway.graphql.mutations.webhooks import WebhookMutations


@strawberry.type
class Mutation(
    OnboardingMutations, MoneyMutations, WebhookMutations, SandboxMutations, TokenMutations
):
    pass
