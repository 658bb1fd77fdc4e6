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
