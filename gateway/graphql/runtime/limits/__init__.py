"""Query limits: a document that would cost too much is refused before any resolver runs.

Each limit is a module of its own that measures one thing and refuses it with its own `code`
(and the `limit`, and the `measured` value where it is known; see `refusal`):

- `size`: the `query` string's UTF-8 bytes (`QUERY_TOO_LARGE`), before the lexer reads it.
- `tokens`: tokens and comments, counted by graphql-core's lexer (`TOO_MANY_TOKENS`).
- `depth`: fields nested in fields (`QUERY_TOO_DEEP`), also for a document too deeply nested
  to parse or to measure.
- `aliases`: fields with an alias (`TOO_MANY_ALIASES`).
- `directives`: directives written anywhere in the document (`TOO_MANY_DIRECTIVES`).
- `cost`: fields times page sizes (`QUERY_TOO_COMPLEX`), and its report in `extensions`.
- `introspection`: graphql-core's introspection depth rule, coded `QUERY_TOO_DEEP`.

The shared parts: `config` (the `QueryLimits` numbers), `refusal` (the error's shape), `walk`
(`measure`: one walk measures depth, aliases and cost together), `cache` (a repeated document
is measured once) and `limiter` (`QueryLimiter`, the schema extension that runs them in order).
"""

from gateway.graphql.runtime.limits.cache import MeasureCache
from gateway.graphql.runtime.limits.config import QueryLimits
from gateway.graphql.runtime.limits.directives import count_directives
from gateway.graphql.runtime.limits.limiter import QueryLimiter
from gateway.graphql.runtime.limits.walk import Measure, measure

__all__ = ["Measure", "MeasureCache", "QueryLimiter", "QueryLimits", "count_directives", "measure"]
