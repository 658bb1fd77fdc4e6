import reversion

from .base import (
    DatePrecision,
    Illustrated,
    PublicationStatus,
    Publishable,
    PublishableQuerySet,
    Sourced,
)
from .commitments import (
    Commitment,
    CommitmentKind,
    CommitmentQuerySet,
    CommitmentStatus,
    FigureQualifier,
    GeographicScope,
    SourceQuote,
    StatusUpdate,
)
from .content import Article, Authorship, ContentLanguage, FocusArea, Project
from .reference import Actor, ActorKind, Country, Event, Keyword, Person, Region

__all__ = [
    "PUBLISHABLE_MODELS",
    "Actor",
    "ActorKind",
    "Article",
    "Authorship",
    "Commitment",
    "CommitmentKind",
    "CommitmentQuerySet",
    "CommitmentStatus",
    "ContentLanguage",
    "Country",
    "DatePrecision",
    "Event",
    "FigureQualifier",
    "FocusArea",
    "GeographicScope",
    "Illustrated",
    "Keyword",
    "Person",
    "Project",
    "PublicationStatus",
    "Publishable",
    "PublishableQuerySet",
    "Region",
    "SourceQuote",
    "Sourced",
    "StatusUpdate",
]

# The models that go through the editorial workflow.
PUBLISHABLE_MODELS = (Article, Commitment, FocusArea)

# A version of a record includes its inline parts, so a revert restores them too. The version
# counter is left out: a revert moves it forward instead of back (see Publishable). So is the
# stored current status: it follows the status updates that the revert restores.
reversion.register(Authorship)
reversion.register(SourceQuote)
reversion.register(StatusUpdate)
reversion.register(Article, follow=["authorships"], exclude=["version"])
reversion.register(
    Commitment, follow=["quotes", "status_updates"], exclude=["version", "current_status"]
)
reversion.register(FocusArea, exclude=["version"])
