"""A large synthetic dataset with the shapes of real content, the same for the same seed.

It feeds the benchmarks: `manage.py generate_dataset --seed 42` builds by default 1,000 articles
and 10,000 commitments, with their authors, publishers, keywords, quotes and status histories,
20 focus areas, events, projects, and every country of Latin America and the Caribbean.

Nothing of it may pass for a fact. Every slug begins with `synthetic-`, every title and name
with "Synthetic", the publishers are "Synthetic data: …", names are invented words, the texts are
shuffled words, and links point to example.org. It is written only into a database without real
content, unless the operator asks for it alongside.

Everything derives from `random.Random(seed)` and the fixed calendar below, never from the clock,
so one seed always gives the same records (on one Python version: `random` keeps its algorithms
only within one). Records are planned in memory first, then written with `bulk_create`: no
per-save signals run, so the page cache is renewed once at the end, and no reversion history is
recorded, as synthetic records have no editorial past to return to.
"""

import dataclasses
import datetime
import hashlib
import json
import random
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, ProtectedError
from django.utils.text import slugify

from policy.cache import pages
from policy.models import (
    Actor,
    ActorKind,
    Article,
    Authorship,
    Commitment,
    CommitmentKind,
    CommitmentStatus,
    ContentLanguage,
    Country,
    DatePrecision,
    Event,
    FigureQualifier,
    FocusArea,
    GeographicScope,
    Keyword,
    Person,
    Project,
    PublicationStatus,
    SourceQuote,
    StatusUpdate,
)
from policy.models.base import truncate_to_precision
from policy.models.reference import LATIN_AMERICA_AND_CARIBBEAN

SLUG_PREFIX = "synthetic-"
# The dataset's own calendar: articles appear in the ten years up to LAST_DAY.
FIRST_DAY = datetime.date(2015, 7, 1)
LAST_DAY = datetime.date(2025, 6, 30)
# Scheduled records wait until long after any benchmark, so the published counts stay stable.
SCHEDULED_FROM = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
# A commitment is recorded within this time of the first article that states it.
STATING_TIME = datetime.timedelta(days=14)
BATCH_SIZE = 1000

# Records that carry the mark, in an order in which they can be deleted.
SYNTHETIC_MODELS = (Commitment, Project, Event, FocusArea, Article, Actor, Person, Keyword)

# Shares of records in each state besides published, as in a working newsroom. A scheduled record
# is published from SCHEDULED_FROM; an expired one was published and taken down before LAST_DAY.
UNPUBLISHED_SHARES = {
    PublicationStatus.DRAFT: 0.06,
    PublicationStatus.IN_REVIEW: 0.04,
    PublicationStatus.ARCHIVED: 0.03,
    "scheduled": 0.01,
    "expired": 0.01,
}
# Focus areas are a short, curated list: nearly all of them public.
FOCUS_AREA_UNPUBLISHED_SHARES = {PublicationStatus.DRAFT: 0.05}

LANGUAGE_WEIGHTS = {
    ContentLanguage.ENGLISH: 70,
    ContentLanguage.SPANISH: 12,
    ContentLanguage.PORTUGUESE: 10,
    ContentLanguage.CHINESE: 8,
}
# Words that texts are shuffled from: they read as the language, so search and stemming have
# something to work on, but no sentence of them says anything.
WORDS = {
    language: tuple(words.split())
    for language, words in {
        ContentLanguage.ENGLISH: (
            "cooperation partners trade investment port railway energy solar grid bank "
            "credit loan scholarship training exchange culture agriculture soybean copper "
            "lithium mining digital network satellite health vaccine science climate "
            "forest water road bridge logistics market export import dialogue summit "
            "forum ministry agreement plan programme region people future growth "
            "development infrastructure technology industry innovation finance currency "
            "youth university research green transition sustainable"
        ),
        ContentLanguage.SPANISH: (
            "cooperación socios comercio inversión puerto ferrocarril energía solar red "
            "banco crédito préstamo beca formación intercambio cultura agricultura soja "
            "cobre litio minería digital satélite salud vacuna ciencia clima bosque agua "
            "carretera puente logística mercado exportación importación diálogo cumbre "
            "foro ministerio acuerdo plan programa región pueblos futuro crecimiento "
            "desarrollo infraestructura tecnología industria innovación finanzas moneda "
            "juventud universidad investigación verde transición sostenible"
        ),
        ContentLanguage.PORTUGUESE: (
            "cooperação parceiros comércio investimento porto ferrovia energia solar rede "
            "banco crédito empréstimo bolsa formação intercâmbio cultura agricultura soja "
            "cobre lítio mineração digital satélite saúde vacina ciência clima floresta "
            "água estrada ponte logística mercado exportação importação diálogo cúpula "
            "fórum ministério acordo plano programa região povos futuro crescimento "
            "desenvolvimento infraestrutura tecnologia indústria inovação finanças moeda "
            "juventude universidade pesquisa verde transição sustentável"
        ),
        ContentLanguage.CHINESE: (
            "合作 伙伴 贸易 投资 港口 铁路 能源 太阳能 电网 银行 信贷 贷款 奖学金 "
            "培训 交流 文化 农业 大豆 铜 锂 矿业 数字 卫星 卫生 疫苗 科学 气候 "
            "森林 水 公路 桥梁 物流 市场 出口 进口 对话 峰会 论坛 部委 协议 计划 "
            "项目 地区 人民 未来 增长 发展 基础设施 技术 工业 创新 金融 货币 青年 "
            "大学 研究 绿色 转型 可持续"
        ),
    }.items()
}
# How each language states a commitment, mentions it again, names a record, and lists.
TEMPLATES = {
    ContentLanguage.ENGLISH: {
        "pledge": "{party} committed {figure} to the {subject}{where}.",
        "follow_up": "{party} discussed the {subject} again.",
        "mention": "The report mentions {name}.",
        "where": " in {countries}",
        "and": " and ",
        "list": ", ",
        "partners": "The partners",
        "support": "support",
    },
    ContentLanguage.SPANISH: {
        "pledge": "{party} comprometió {figure} para {subject}{where}.",
        "follow_up": "{party} volvió a discutir {subject}.",
        "mention": "El informe menciona {name}.",
        "where": " en {countries}",
        "and": " y ",
        "list": ", ",
        "partners": "Los socios",
        "support": "apoyo",
    },
    ContentLanguage.PORTUGUESE: {
        "pledge": "{party} comprometeu {figure} para {subject}{where}.",
        "follow_up": "{party} voltou a discutir {subject}.",
        "mention": "O relatório menciona {name}.",
        "where": " em {countries}",
        "and": " e ",
        "list": ", ",
        "partners": "Os parceiros",
        "support": "apoio",
    },
    ContentLanguage.CHINESE: {
        "pledge": "{party}承诺为{subject}提供{figure}{where}。",
        "follow_up": "{party}再次讨论了{subject}。",
        "mention": "报告提到了{name}。",
        "where": "，涉及{countries}",
        "and": "和",
        "list": "、",
        "partners": "各方",
        "support": "支持",
    },
}
# Invented names are made of these, as "Kalomire" or "Tusena".
SYLLABLES = [consonant + vowel for consonant in "bdfklmnrstvz" for vowel in "aeiou"]

FOCUS_AREA_TOPICS = (
    "infrastructure and connectivity",
    "trade and investment",
    "green transition",
    "digital economy",
    "financial cooperation",
    "agriculture and food",
    "health",
    "education",
    "science and technology",
    "energy",
    "mining and minerals",
    "culture and tourism",
    "people-to-people exchange",
    "public security",
    "space",
    "oceans and fisheries",
    "water",
    "urban development",
    "manufacturing",
    "transport",
)
COMMITMENT_TOPICS = {
    CommitmentKind.CREDIT_LINE: ("credit line", "infrastructure loan", "development credit"),
    CommitmentKind.VISA_POLICY: ("visa waiver", "visa facilitation"),
    CommitmentKind.SCHOLARSHIPS: ("scholarships", "university places"),
    CommitmentKind.TRAINING: ("training courses", "technical training"),
    CommitmentKind.EXCHANGES: ("party exchanges", "youth exchanges", "cultural exchanges"),
    CommitmentKind.PROJECT_PORTFOLIO: ("port projects", "railway projects", "energy projects"),
    CommitmentKind.TRADE_POLICY: ("tariff cuts", "export quotas", "trade facilitation"),
    CommitmentKind.DECLARATION: ("joint declaration", "action plan"),
    CommitmentKind.POLICY_PLEDGE: ("green pledge", "digital pledge", "health pledge"),
}
PLAN_KINDS = [CommitmentKind.DECLARATION, CommitmentKind.PROJECT_PORTFOLIO]
TARGET_UNITS = {
    CommitmentKind.SCHOLARSHIPS: "scholarships",
    CommitmentKind.TRAINING: "training places",
    CommitmentKind.EXCHANGES: "exchange visits",
    CommitmentKind.PROJECT_PORTFOLIO: "cooperation projects",
}
QUALIFIER_WORDS = {
    FigureQualifier.AS_STATED: "",
    FigureQualifier.MORE_THAN: "more than ",
    FigureQualifier.UP_TO: "up to ",
    FigureQualifier.ABOUT: "about ",
}
# Kinds that pledge money: the share of them that states an amount.
AMOUNT_SHARES = {
    CommitmentKind.CREDIT_LINE: 0.95,
    CommitmentKind.PROJECT_PORTFOLIO: 0.7,
    CommitmentKind.TRADE_POLICY: 0.2,
}
CURRENCY_WEIGHTS = {"CNY": 50, "USD": 35, "BRL": 6, "MXN": 4, "EUR": 5}
# The share of each status among updates.
STATUS_WEIGHTS = {
    CommitmentStatus.NOT_YET_RATED: 10,
    CommitmentStatus.IN_THE_WORKS: 35,
    CommitmentStatus.STALLED: 15,
    CommitmentStatus.COMPROMISE: 10,
    CommitmentStatus.KEPT: 20,
    CommitmentStatus.BROKEN: 10,
}
PARTY_KINDS = [kind for kind in ActorKind if kind != ActorKind.MEDIA]
PARTY_NOUNS = {
    ActorKind.GOVERNMENT: "Ministry",
    ActorKind.REGIONAL_BODY: "Regional Council",
    ActorKind.FORUM: "Forum",
    ActorKind.INTERNATIONAL_ORGANISATION: "Agency",
    ActorKind.COMPANY: "Holdings",
    ActorKind.THINK_TANK: "Institute",
    ActorKind.BUSINESS_ASSOCIATION: "Chamber of Commerce",
}
EVENT_NOUNS = ("Forum", "Summit", "Expo", "Ministerial Meeting", "Business Conference")
PROJECT_NOUNS = (
    "port",
    "rail corridor",
    "solar park",
    "wind farm",
    "lithium plant",
    "hospital",
    "data centre",
    "highway",
    "hydropower dam",
    "industrial park",
)


@dataclasses.dataclass(frozen=True)
class DatasetSize:
    """How many records of each kind to generate."""

    articles: int = 1000
    commitments: int = 10000
    focus_areas: int = 20
    actors: int = 120
    publishers: int = 10
    people: int = 200
    keywords: int = 60
    events: int = 100
    projects: int = 200

    def problems(self):
        found = [
            f"{field.name.replace('_', ' ').capitalize()} cannot be negative."
            for field in dataclasses.fields(self)
            if getattr(self, field.name) < 0
        ]
        if self.commitments and not self.articles:
            found.append("Commitments quote articles: generate at least one article.")
        return found


class DatasetRefused(Exception):
    """The dataset cannot be written into this database; nothing was written."""


def real_content():
    """How many records of each content model do not carry the synthetic mark."""
    counts = {
        model._meta.verbose_name_plural: model._base_manager.exclude(
            slug__startswith=SLUG_PREFIX
        ).count()
        for model in SYNTHETIC_MODELS
    }
    return {name: count for name, count in counts.items() if count}


def synthetic_records_exist():
    return any(
        model._base_manager.filter(slug__startswith=SLUG_PREFIX).exists()
        for model in SYNTHETIC_MODELS
    )


def delete_synthetic_records():
    """Delete every synthetic record, and nothing else; refuse if a real record refers to one."""
    commitments = Commitment._base_manager.filter(slug__startswith=SLUG_PREFIX)
    # Most rows are the parts and links of synthetic commitments, which nothing refers to. They
    # go in bulk: fetching each to send its signals would take longer than the whole generation.
    # The caller renews the page cache once.
    parts = [
        SourceQuote.objects.filter(commitment__in=commitments),
        StatusUpdate.objects.filter(commitment__in=commitments),
        *(
            field.remote_field.through.objects.filter(
                **{f"{field.m2m_field_name()}__in": commitments}
            )
            for field in Commitment._meta.many_to_many
            if field.remote_field.through._meta.auto_created
        ),
    ]
    for queryset in parts:
        queryset._raw_delete(queryset.db)
    # Plans and their parts go together, but PROTECT would refuse to delete either first.
    commitments.update(part_of=None)
    try:
        for model in SYNTHETIC_MODELS:
            model._base_manager.filter(slug__startswith=SLUG_PREFIX).delete()
    except ProtectedError as error:
        examples = ", ".join(
            f"{record._meta.verbose_name} “{record}”"
            for record in list(error.protected_objects)[:3]
        )
        raise DatasetRefused(
            f"Real records refer to synthetic ones, which cannot be deleted: {examples}."
        ) from None


@transaction.atomic
def generate_dataset(
    *,
    seed: int,
    size: DatasetSize = DatasetSize(),
    replace: bool = False,
    alongside_real_content: bool = False,
) -> dict[str, int]:
    """Write the dataset of the seed; return how many records of each kind it holds.

    Refuses (DatasetRefused, writing nothing) a database with real content unless
    `alongside_real_content`, and one that already holds synthetic records unless `replace`,
    which deletes them first.
    """
    if problems := size.problems():
        raise DatasetRefused(" ".join(problems))
    if not alongside_real_content and (found := real_content()):
        listed = ", ".join(f"{name}: {count}" for name, count in found.items())
        raise DatasetRefused(
            f"The database holds real content ({listed}). Synthetic records would mix with it; "
            "pass --alongside-real-content to write them anyway."
        )
    if synthetic_records_exist():
        if not replace:
            raise DatasetRefused(
                "The database already holds synthetic records; pass --replace to delete them "
                "and generate the dataset again."
            )
        delete_synthetic_records()
    # Not for secrets: a seeded generator is the point, so that a seed gives one dataset.
    rng = random.Random(seed)  # noqa: S311
    records = _Planner(rng, size, _reference_countries()).plan()
    records.write()
    # bulk_create sends no post_save, which would renew the page cache's generation.
    transaction.on_commit(pages.renew_generation)
    return records.counts()


def _reference_countries():
    """China and every country of Latin America and the Caribbean, as the seed's reference data
    has them, each created if missing. Countries are real: the dataset never deletes them."""
    seed_file = settings.BASE_DIR / "fixtures" / "seed.json"
    reference = [
        record["fields"]
        for record in json.loads(seed_file.read_text(encoding="utf-8"))
        if record["model"] == "policy.country"
    ]
    codes = [fields["iso_code"] for fields in reference]
    existing = set(Country.objects.filter(iso_code__in=codes).values_list("iso_code", flat=True))
    Country.objects.bulk_create(
        Country(**fields) for fields in reference if fields["iso_code"] not in existing
    )
    by_code = Country.objects.in_bulk(codes, field_name="iso_code")
    return [by_code[code] for code in codes]


def _morning_of(day, minutes=0):
    start = datetime.datetime.combine(day, datetime.time(8), tzinfo=datetime.UTC)
    return start + datetime.timedelta(minutes=minutes)


@dataclasses.dataclass
class _Records:
    """The unsaved records of a dataset, and the many-to-many links that need their keys."""

    keywords: list = dataclasses.field(default_factory=list)
    people: list = dataclasses.field(default_factory=list)
    publishers: list = dataclasses.field(default_factory=list)
    parties: list = dataclasses.field(default_factory=list)
    articles: list = dataclasses.field(default_factory=list)
    authorships: list = dataclasses.field(default_factory=list)
    focus_areas: list = dataclasses.field(default_factory=list)
    events: list = dataclasses.field(default_factory=list)
    projects: list = dataclasses.field(default_factory=list)
    # Wider plans first: the other commitments may be part of one, which must be saved before.
    plans: list = dataclasses.field(default_factory=list)
    commitments: list = dataclasses.field(default_factory=list)
    quotes: list = dataclasses.field(default_factory=list)
    status_updates: list = dataclasses.field(default_factory=list)
    # (many-to-many field, record, related record)
    links: list = dataclasses.field(default_factory=list)

    def write(self):
        for model, records in [
            (Keyword, self.keywords),
            (Person, self.people),
            (Actor, self.publishers + self.parties),
            (Article, self.articles),
            (Authorship, self.authorships),
            (FocusArea, self.focus_areas),
            (Event, self.events),
            (Project, self.projects),
            (Commitment, self.plans),
            (Commitment, self.commitments),
            (SourceQuote, self.quotes),
            (StatusUpdate, self.status_updates),
        ]:
            model.objects.bulk_create(records, batch_size=BATCH_SIZE)
        rows = defaultdict(list)
        for field, record, related in self.links:
            through = field.remote_field.through
            rows[through].append(
                through(**{field.m2m_field_name(): record, field.m2m_reverse_field_name(): related})
            )
        for through, through_rows in rows.items():
            through.objects.bulk_create(through_rows, batch_size=BATCH_SIZE)
        # bulk_create stamps `updated_at` with the clock; the dataset keeps to its own calendar.
        for model in (Article, FocusArea, Commitment):
            model._base_manager.filter(slug__startswith=SLUG_PREFIX).update(
                updated_at=F("created_at")
            )
        # bulk_create sends no post_save, which would store each commitment's status.
        Commitment.objects.filter(slug__startswith=SLUG_PREFIX).refresh_current_status()

    def counts(self):
        return {
            model._meta.verbose_name_plural: len(records)
            for model, records in [
                (Article, self.articles),
                (Commitment, self.plans + self.commitments),
                (SourceQuote, self.quotes),
                (StatusUpdate, self.status_updates),
                (FocusArea, self.focus_areas),
                (Actor, self.publishers + self.parties),
                (Person, self.people),
                (Keyword, self.keywords),
                (Event, self.events),
                (Project, self.projects),
            ]
        }


class _Planner:
    """Builds the records of one dataset in memory, drawing every choice from one generator."""

    def __init__(self, rng, size, countries):
        self.rng = rng
        self.size = size
        self.countries = countries
        self.region = [c for c in countries if c.region in LATIN_AMERICA_AND_CARIBBEAN]
        self.china = next(c for c in countries if c.iso_code == "CN")
        self.records = _Records()
        self.names = set()
        self.slugs = set()
        # The sentences each article must contain, woven into its body at the end; by id(),
        # as an unsaved record cannot be a key.
        self.statements = defaultdict(list)

    def plan(self):
        self.add_keywords()
        self.add_people()
        self.add_actors()
        self.add_articles()
        self.add_focus_areas()
        self.add_events()
        self.add_projects()
        self.add_commitments()
        self.name_every_country()
        for article in self.records.articles:
            article.body = self.body(article.language, self.statements[id(article)])
        return self.records

    # Words, names and dates

    def new_name(self, make):
        """A value of `make()` not made before, redrawn until it is new."""
        while (name := make()) in self.names:
            pass
        self.names.add(name)
        return name

    def pseudo_word(self, syllables=(2, 3)):
        count = self.rng.randint(*syllables)
        return "".join(self.rng.choice(SYLLABLES) for _ in range(count)).capitalize()

    def slug(self, text, *, max_length=200):
        # Text that slugify cannot transliterate, such as Chinese, gets a stable digest.
        words = slugify(text) or hashlib.sha256(text.encode()).hexdigest()[:16]
        base = (SLUG_PREFIX + words)[:max_length].strip("-")
        slug, number = base, 1
        while slug in self.slugs:
            number += 1
            slug = f"{base[: max_length - 8]}-{number}"
        self.slugs.add(slug)
        return slug

    def sentence(self, language, words=(8, 18)):
        chosen = self.rng.choices(WORDS[language], k=self.rng.randint(*words))
        if language == ContentLanguage.CHINESE:
            return "".join(chosen) + "。"
        return " ".join(chosen).capitalize() + "."

    def sentences(self, language, count=(2, 6)):
        return [self.sentence(language) for _ in range(self.rng.randint(*count))]

    def text(self, language=ContentLanguage.ENGLISH):
        return join(language, self.sentences(language, (1, 3)))

    def body(self, language, statements):
        """Paragraphs of filler, separated as PARAGRAPH_BREAK expects, with each statement
        placed whole into one of them."""
        paragraphs = [self.sentences(language) for _ in range(self.rng.randint(4, 10))]
        for statement in statements:
            paragraph = self.rng.choice(paragraphs)
            paragraph.insert(self.rng.randint(0, len(paragraph)), statement)
        return "\n\n".join(join(language, paragraph) for paragraph in paragraphs)

    def state(self, article, sentence):
        """Have the article contain the sentence, and return it, to quote."""
        self.statements[id(article)].append(sentence)
        return sentence

    def some(self, records, low, high):
        return self.rng.sample(records, min(self.rng.randint(low, high), len(records)))

    def maybe(self, share, value):
        """`value()` for `share` of the records, None for the others."""
        return value() if self.rng.random() < share else None

    def day_between(self, first, last):
        return first + datetime.timedelta(days=self.rng.randint(0, (last - first).days))

    def link(self, model, name, record, related_records):
        field = model._meta.get_field(name)
        self.records.links += [(field, record, related) for related in related_records]

    # Publication

    def states(self, count, shares=UNPUBLISHED_SHARES):
        """The shares of `count` records in each state, the rest published, shuffled."""
        states = []
        for state, share in shares.items():
            states += [state] * round(count * share)
        states += [PublicationStatus.PUBLISHED] * (count - len(states))
        self.rng.shuffle(states)
        return states

    def publication(self, state, created_at):
        """The publication fields of a record in `state`, as the editorial workflow sets them."""
        fields = {"publication_status": PublicationStatus.PUBLISHED, "created_at": created_at}
        if state == "scheduled":
            publish_at = SCHEDULED_FROM + datetime.timedelta(days=self.rng.randrange(365))
            return fields | {"publish_at": publish_at, "first_published_at": publish_at}
        if state == "expired":
            days = max((_morning_of(LAST_DAY) - created_at).days, 1)
            return fields | {
                "publish_at": created_at,
                "unpublish_at": created_at + datetime.timedelta(days=self.rng.randint(1, days)),
                "first_published_at": created_at,
            }
        was_published = state in (PublicationStatus.PUBLISHED, PublicationStatus.ARCHIVED)
        return fields | {
            "publication_status": state,
            "first_published_at": created_at if was_published else None,
        }

    # Reference records

    def add_keywords(self):
        for _ in range(self.size.keywords):
            word = self.new_name(lambda: self.pseudo_word().lower())
            self.records.keywords.append(
                Keyword(name=f"Synthetic {word}", slug=self.slug(word, max_length=100))
            )

    def add_people(self):
        for _ in range(self.size.people):
            name = self.new_name(lambda: f"{self.pseudo_word()} {self.pseudo_word()}")
            self.records.people.append(
                Person(
                    name=f"Synthetic {name}",
                    slug=self.slug(name),
                    role=self.rng.choice(["", "Synthetic researcher", "Synthetic correspondent"]),
                    country=self.maybe(0.6, lambda: self.rng.choice(self.countries)),
                )
            )

    def add_actors(self):
        for _ in range(self.size.publishers):
            name = self.new_name(lambda: f"{self.pseudo_word()} News")
            self.records.publishers.append(
                Actor(name=f"Synthetic data: {name}", slug=self.slug(name), kind=ActorKind.MEDIA)
            )
        for _ in range(self.size.actors):
            kind = self.rng.choice(PARTY_KINDS)
            name = self.new_name(lambda kind=kind: f"{self.pseudo_word()} {PARTY_NOUNS[kind]}")
            share_in_a_country = 1 if kind == ActorKind.GOVERNMENT else 0.5
            self.records.parties.append(
                Actor(
                    name=f"Synthetic {name}",
                    slug=self.slug(name),
                    kind=kind,
                    country=self.maybe(share_in_a_country, lambda: self.rng.choice(self.countries)),
                )
            )

    # Articles

    def add_articles(self):
        languages, weights = zip(*LANGUAGE_WEIGHTS.items(), strict=True)
        for state in self.states(self.size.articles):
            language = self.rng.choices(languages, weights)[0]
            headline = join(language, self.rng.choices(WORDS[language], k=self.rng.randint(4, 9)))
            slug = self.slug(headline)
            publication_date = self.day_between(FIRST_DAY, LAST_DAY)
            article = Article(
                title=f"Synthetic: {headline[0].upper()}{headline[1:]}",
                slug=slug,
                language=language,
                publication_date=publication_date,
                publisher=self.maybe(0.95, lambda: self.rng.choice(self.records.publishers))
                if self.records.publishers
                else None,
                source_url=self.maybe(0.7, lambda slug=slug: f"https://example.org/{slug}") or "",
                summary=self.maybe(0.5, lambda language=language: self.sentence(language)) or "",
                **self.publication(state, _morning_of(publication_date, self.rng.randrange(600))),
            )
            self.records.articles.append(article)
            authors = self.some(self.records.people, 0 if self.rng.random() < 0.1 else 1, 3)
            for order, person in enumerate(authors):
                self.records.authorships.append(
                    Authorship(
                        article=article,
                        person=person,
                        affiliation=self.maybe(
                            0.7, lambda: f"Synthetic {self.pseudo_word()} Institute"
                        )
                        or "",
                        order=order,
                    )
                )
            self.link(Article, "keywords", article, self.some(self.records.keywords, 1, 5))

    def mention(self, name):
        """The source fields of a record that an article names: the article and its sentence."""
        if not self.records.articles:
            return {}
        article = self.rng.choice(self.records.articles)
        sentence = TEMPLATES[article.language]["mention"].format(name=name)
        return {"source_article": article, "source_quote": self.state(article, sentence)}

    # Focus areas, events and projects

    def add_focus_areas(self):
        states = self.states(self.size.focus_areas, FOCUS_AREA_UNPUBLISHED_SHARES)
        for index, state in enumerate(states):
            round_, place = divmod(index, len(FOCUS_AREA_TOPICS))
            topic = FOCUS_AREA_TOPICS[place] + (f" {round_ + 1}" if round_ else "")
            name = f"Synthetic {topic}"
            self.records.focus_areas.append(
                FocusArea(
                    name=name,
                    slug=self.slug(topic, max_length=150),
                    order=index + 1,
                    description=self.text(),
                    **self.publication(state, _morning_of(FIRST_DAY, index)),
                    **self.mention(name),
                )
            )

    def add_events(self):
        for _ in range(self.size.events):
            noun = self.rng.choice(EVENT_NOUNS)
            name = self.new_name(lambda noun=noun: f"{self.pseudo_word()} {noun}")
            precision = self.rng.choices(list(DatePrecision), [15, 25, 60])[0]
            date = self.maybe(0.8, lambda: self.day_between(FIRST_DAY, LAST_DAY))
            event = Event(
                name=f"Synthetic {name}",
                slug=self.slug(name),
                place=self.maybe(0.8, lambda: f"{self.pseudo_word()} City") or "",
                country=self.rng.choice(self.countries),
                date=truncate_to_precision(date, precision),
                date_precision=precision,
                description=self.text(),
                **self.mention(f"Synthetic {name}"),
            )
            self.records.events.append(event)
            self.link(Event, "participants", event, self.some(self.records.people, 0, 4))

    def add_projects(self):
        for _ in range(self.size.projects):
            noun = self.rng.choice(PROJECT_NOUNS)
            name = self.new_name(lambda noun=noun: f"{self.pseudo_word()} {noun}")
            project = Project(
                name=f"Synthetic {name}",
                slug=self.slug(name),
                country=self.rng.choice(self.region),
                place=self.maybe(0.6, lambda: f"{self.pseudo_word()} Province") or "",
                description=self.text(),
                **self.mention(f"Synthetic {name}"),
            )
            self.records.projects.append(project)
            self.link(Project, "actors", project, self.some(self.records.parties, 0, 3))
            self.link(Project, "focus_areas", project, self.some(self.records.focus_areas, 1, 2))

    # Commitments

    def add_commitments(self):
        # One in twenty is a wider plan; a third of the others belong to one.
        plan_count = self.size.commitments // 20
        for index, state in enumerate(self.states(self.size.commitments)):
            is_plan = index < plan_count
            kinds = PLAN_KINDS if is_plan else list(CommitmentKind)
            kind = self.rng.choice(kinds)
            name = self.new_name(lambda: self.pseudo_word((3, 4)))
            subject = f"{name} {self.rng.choice(COMMITMENT_TOPICS[kind])}"
            sources = sorted(
                self.some(self.records.articles, 1, 3), key=lambda each: each.publication_date
            )
            first_day = sources[0].publication_date
            created_at = min(
                _morning_of(self.day_between(first_day, first_day + STATING_TIME)),
                _morning_of(LAST_DAY),
            )
            commitment = Commitment(
                title=f"Synthetic: {subject}",
                slug=self.slug(subject),
                kind=kind,
                description=self.maybe(0.8, self.text) or "",
                announced_at=self.maybe(0.3, lambda: self.rng.choice(self.records.events))
                if self.records.events
                else None,
                part_of=None
                if is_plan or not self.records.plans
                else self.maybe(1 / 3, lambda: self.rng.choice(self.records.plans)),
                **self.figures(kind),
                **self.period(first_day),
                **self.publication(state, created_at),
            )
            (self.records.plans if is_plan else self.records.commitments).append(commitment)
            parties = self.some(self.records.parties, 0 if self.rng.random() < 0.1 else 1, 3)
            self.link(Commitment, "parties", commitment, parties)
            self.link(
                Commitment, "focus_areas", commitment, self.some(self.records.focus_areas, 1, 3)
            )
            countries = self.scope(commitment)
            self.link(Commitment, "countries", commitment, countries)
            quotes = self.add_quotes(commitment, subject, sources, parties, countries)
            self.add_status_history(commitment, quotes)

    def figures(self, kind):
        figures = {}
        if self.rng.random() < AMOUNT_SHARES.get(kind, 0.05):
            currencies, weights = zip(*CURRENCY_WEIGHTS.items(), strict=True)
            currency = self.rng.choices(currencies, weights)[0]
            amount = Decimal(self.rng.randint(1, 999)) * 10 ** self.rng.randint(5, 9)
            figures |= {"amount": amount, "currency": currency}
            if currency != "USD" and self.rng.random() < 0.4:
                figures["usd_equivalent"] = (amount * Decimal("0.14")).quantize(Decimal(1))
        if kind in TARGET_UNITS or self.rng.random() < 0.05:
            figures |= {
                "target_value": Decimal(self.rng.randrange(50, 20001, 50)),
                "target_unit": TARGET_UNITS.get(kind, "beneficiaries"),
                "target_qualifier": self.rng.choice(list(FigureQualifier)),
            }
        return figures

    def period(self, first_day):
        if self.rng.random() < 0.3:
            return {}
        start = datetime.date(first_day.year + self.rng.randint(-1, 1), 1, 1)
        end_precision = self.rng.choices(list(DatePrecision), [60, 25, 15])[0]
        end = self.day_between(
            start.replace(year=start.year + 1), datetime.date(start.year + 10, 12, 31)
        )
        return {
            "period_start": start,
            "period_start_precision": DatePrecision.YEAR,
            "period_end": self.maybe(0.85, lambda: truncate_to_precision(end, end_precision)),
            "period_end_precision": end_precision,
        }

    def scope(self, commitment):
        """Set the commitment's geographic scope; return the countries its sources name."""
        scope = self.rng.choices(list(GeographicScope), [72, 22, 6])[0]
        commitment.geographic_scope = scope
        if scope == GeographicScope.GLOBAL:
            return []
        countries = self.some(self.region, 1 if scope == GeographicScope.COUNTRIES else 0, 6)
        if scope == GeographicScope.COUNTRIES and self.rng.random() < 0.2:
            countries.append(self.china)
        return countries

    @staticmethod
    def figure_text(commitment, words):
        """The commitment's figures as its first quote states them."""
        figures = []
        if commitment.amount is not None:
            figures.append(f"{commitment.amount:,} {commitment.currency}")
            if commitment.usd_equivalent is not None:
                figures[-1] += f" ({commitment.usd_equivalent:,} USD)"
        if commitment.target_value is not None:
            qualifier = QUALIFIER_WORDS[commitment.target_qualifier]
            figures.append(f"{qualifier}{commitment.target_value:,} {commitment.target_unit}")
        return words["and"].join(figures) or words["support"]

    def add_quotes(self, commitment, subject, sources, parties, countries):
        """One quote from each source: the first states the pledge and its figures."""
        quotes = []
        for order, article in enumerate(sources):
            words = TEMPLATES[article.language]
            party = parties[0].name if parties else words["partners"]
            if order == 0:
                named = words["list"].join(country.name for country in countries[:3])
                text = words["pledge"].format(
                    party=party,
                    figure=self.figure_text(commitment, words),
                    subject=subject,
                    where=words["where"].format(countries=named) if named else "",
                )
            else:
                text = words["follow_up"].format(party=party, subject=subject)
            quotes.append(
                SourceQuote(
                    commitment=commitment,
                    article=article,
                    text=self.state(article, text),
                    order=order,
                )
            )
        self.records.quotes += quotes
        return quotes

    def add_status_history(self, commitment, quotes):
        """One to six updates on distinct days from the first source on, each with a source."""
        first_day = quotes[0].article.publication_date
        days = (LAST_DAY - first_day).days + 1
        offsets = sorted(self.rng.sample(range(days), min(self.rng.randint(1, 6), days)))
        statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
        for number, offset in enumerate(offsets, 1):
            date = first_day + datetime.timedelta(days=offset)
            update = StatusUpdate(
                commitment=commitment,
                date=date,
                status=self.rng.choices(statuses, weights)[0],
                note=self.sentence(ContentLanguage.ENGLISH),
            )
            if self.rng.random() < 0.5:
                known = [quote for quote in quotes if quote.article.publication_date <= date]
                quote = self.rng.choice(known)
                update.source_article = quote.article
                update.source_quote = self.maybe(0.4, lambda quote=quote: quote.text) or ""
            else:
                update.source_url = f"https://example.org/{commitment.slug}/{number}"
            self.records.status_updates.append(update)

    def name_every_country(self):
        """Have every country of the region named by at least one commitment."""
        field = Commitment._meta.get_field("countries")
        named = {related.iso_code for linked, _, related in self.records.links if linked == field}
        naming = [
            commitment
            for commitment in self.records.plans + self.records.commitments
            if commitment.geographic_scope == GeographicScope.COUNTRIES
        ]
        unnamed = [country for country in self.region if country.iso_code not in named]
        if naming:
            for index, country in enumerate(unnamed):
                self.records.links.append((field, naming[index % len(naming)], country))


def join(language, sentences):
    return ("" if language == ContentLanguage.CHINESE else " ").join(sentences)
