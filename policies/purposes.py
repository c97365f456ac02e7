"""Purposes of processing: PIPL legal basis (Art. 13), scope (Art. 6), retention (Art. 19).

A purpose says on which legal basis data is processed, which data categories it may
touch at all, whether it provides data to a third party, discloses it publicly or sends
it abroad (each needing separate consent, Art. 23, 25, 39), whether it markets or
decides automatically (Art. 24), and how long its data may be kept.

Purposes are data (`purposes.yaml`), validated on load: a bad file is refused as a
whole, and when the YAML source is at hand each error names its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

import yaml

from policies.errors import PolicyFileError

ALL_CATEGORIES = "*"
DEFAULT_RETENTION_DAYS = 1095
"""Three years: what a purpose stored before retention was declared is assumed to keep."""

SEPARATE_SCOPES = ("third_party", "public_disclosure", "cross_border")
"""Flags whose processing needs its own, separate consent (PIPL Art. 23, 25, 39)."""

FLAGS = (*SEPARATE_SCOPES, "marketing", "automated_decision")
AGGREGATE_KEYS = ("min_cohort", "differential_privacy", "export_threshold")
PURPOSE_KEYS = (
    "name_zh",
    "name_en",
    "legal_basis",
    "categories",
    *FLAGS,
    "retention_days",
    *AGGREGATE_KEYS,
)
DEFAULT_MIN_COHORT = 10
"""No aggregate cell may describe fewer people than this unless a purpose says more."""
DP_KEYS = ("epsilon_per_query", "epsilon_per_period", "period_days")

PURPOSE_ID = re.compile(r"[a-z][a-z0-9_]{1,63}")
# A category name (`contact.phone`, `free_text`) or a pattern over one (`contact.*`).
_CATEGORY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?")


class LegalBasis(StrEnum):
    CONSENT = "consent"
    CONTRACT = "contract"
    HR_MANAGEMENT = "hr_management"
    LEGAL_OBLIGATION = "legal_obligation"
    EMERGENCY = "emergency"
    NEWS_PUBLIC_INTEREST = "news_public_interest"
    PUBLISHED_DATA = "published_data"
    OTHER_LAW = "other_law"


@dataclass(frozen=True, slots=True)
class DifferentialPrivacy:
    """Differential privacy on a purpose's aggregates: each answer spends
    `epsilon_per_query` (at most) from a budget of `epsilon_per_period` per principal,
    renewed every `period_days` days."""

    epsilon_per_query: float
    epsilon_per_period: float
    period_days: int

    def to_document(self) -> dict[str, Any]:
        return {
            "epsilon_per_query": self.epsilon_per_query,
            "epsilon_per_period": self.epsilon_per_period,
            "period_days": self.period_days,
        }


@dataclass(frozen=True, slots=True)
class Purpose:
    id: str
    name_zh: str
    name_en: str
    legal_basis: LegalBasis
    categories: frozenset[str] = field(default=frozenset({ALL_CATEGORIES}))
    """Data categories the purpose may use at all: names, `prefix.*` patterns, or `*`."""
    third_party: bool = False
    public_disclosure: bool = False
    cross_border: bool = False
    marketing: bool = False
    automated_decision: bool = False
    retention_days: int = DEFAULT_RETENTION_DAYS
    min_cohort: int = DEFAULT_MIN_COHORT
    """Minimum number of people behind any aggregate cell released for this purpose."""
    differential_privacy: DifferentialPrivacy | None = None
    """None: aggregates are exact (minimum cohort and the differencing rule only)."""
    export_threshold: int | None = None
    """Records a principal may read per day for this purpose before an approved export
    request is needed; None: no threshold."""

    def allows_category(self, category: str) -> bool:
        """Whether data of `category` is within this purpose's scope (minimization)."""
        if ALL_CATEGORIES in self.categories or category in self.categories:
            return True
        return any(
            pattern.endswith(".*") and category.startswith(pattern[:-1])
            for pattern in self.categories
        )

    @property
    def requires_consent(self) -> bool:
        return self.legal_basis is LegalBasis.CONSENT

    @property
    def separate_scopes_required(self) -> frozenset[str]:
        """Which of third_party, public_disclosure, cross_border this purpose does."""
        return frozenset(scope for scope in SEPARATE_SCOPES if getattr(self, scope))

    def to_document(self) -> dict[str, Any]:
        # Every field is written, so a stored version keeps its meaning even if the
        # defaults for missing fields change later.
        return {
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "legal_basis": self.legal_basis.value,
            "categories": sorted(self.categories),
            **{flag: bool(getattr(self, flag)) for flag in FLAGS},
            "retention_days": self.retention_days,
            # Written only when set: a version stored before these keys existed means
            # exactly the defaults, so old and new documents of one policy compare equal.
            **({"min_cohort": self.min_cohort} if self.min_cohort != DEFAULT_MIN_COHORT else {}),
            **(
                {"differential_privacy": self.differential_privacy.to_document()}
                if self.differential_privacy is not None
                else {}
            ),
            **(
                {"export_threshold": self.export_threshold}
                if self.export_threshold is not None
                else {}
            ),
        }


# --- where in the YAML source -----------------------------------------------------------

_Path = tuple[str | int, ...]


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _entry(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


@dataclass(frozen=True, slots=True)
class _Reporter:
    """Raises PolicyFileError naming the purpose, the field and, given the source, the line."""

    source: str
    root: yaml.Node | None = None
    """The `purposes:` mapping node, or None when the YAML source is not at hand."""
    root_line: int = 1

    @classmethod
    def of(cls, source: str, text: str | None) -> _Reporter:
        if text is None:
            return cls(source)
        try:
            document = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            _refuse_yaml(source, exc)
        if document is None:
            return cls(source)
        found = _entry(document, "purposes")
        if found is None:
            return cls(source, document, _line(document))
        key_node, value_node = found
        return cls(source, value_node, _line(key_node))

    def line(self, path: _Path) -> int | None:
        """Line of the deepest key (or list item) along `path` that the source has."""
        if self.root is None:
            return None
        node, line = self.root, self.root_line
        for part in path:
            if isinstance(part, int):
                if not isinstance(node, yaml.SequenceNode) or not 0 <= part < len(node.value):
                    break
                node = node.value[part]
                line = _line(node)
                continue
            found = _entry(node, part)
            if found is None:
                break
            key_node, node = found
            line = _line(key_node)
        return line

    def fail(self, path: _Path, reason: str) -> NoReturn:
        where = "purposes" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        line = self.line(path)
        prefix = "" if line is None else f"{self.source} line {line}: "
        msg = f"{prefix}{where}: {reason}"
        raise PolicyFileError(msg)

    def refuse_duplicates(self) -> None:
        """YAML loaders keep the last of two equal keys silently; a policy must not."""
        if not isinstance(self.root, yaml.MappingNode):
            return
        self._refuse_duplicates_in(self.root, ())
        for key_node, value_node in self.root.value:
            if isinstance(key_node, yaml.ScalarNode) and isinstance(value_node, yaml.MappingNode):
                self._refuse_duplicates_in(value_node, (str(key_node.value),))

    def _refuse_duplicates_in(self, node: yaml.MappingNode, path: _Path) -> None:
        first: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = str(key_node.value)
            if key in first:
                where = "purposes" + "".join(f".{p}" for p in (*path, key))
                msg = (
                    f"{self.source} line {_line(key_node)}: {where}: "
                    f"defined twice (first on line {first[key]})"
                )
                raise PolicyFileError(msg)
            first[key] = _line(key_node)


def _refuse_yaml(source: str, exc: yaml.YAMLError) -> NoReturn:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "cannot be parsed"
    where = source if mark is None else f"{source} line {mark.line + 1}"
    msg = f"{where}: not valid YAML: {problem}"
    raise PolicyFileError(msg) from None


# --- parsing ----------------------------------------------------------------------------


def _name(report: _Reporter, pid: str, spec: dict[Any, Any], key: str) -> str:
    value = spec.get(key, pid)
    if not isinstance(value, str) or not value.strip():
        report.fail((pid, key), "must be a non-empty string")
    return value


def _legal_basis(report: _Reporter, pid: str, spec: dict[Any, Any]) -> LegalBasis:
    allowed = ", ".join(b.value for b in LegalBasis)
    if "legal_basis" not in spec:
        report.fail((pid,), f"legal_basis is required, one of {allowed}")
    value = spec["legal_basis"]
    if not isinstance(value, str) or value not in {b.value for b in LegalBasis}:
        report.fail((pid, "legal_basis"), f"must be one of {allowed}; got {value!r}")
    return LegalBasis(value)


def _categories(report: _Reporter, pid: str, spec: dict[Any, Any]) -> frozenset[str]:
    if "categories" not in spec:
        return frozenset({ALL_CATEGORIES})
    value = spec["categories"]
    if not isinstance(value, list):
        report.fail(
            (pid, "categories"),
            "expected a list of data categories, such as [identity.name, contact.*] or ['*']",
        )
    for index, item in enumerate(value):
        path = (pid, "categories", index)
        if not isinstance(item, str):
            report.fail(path, f"expected a category name or pattern, got {type(item).__name__}")
        if item != ALL_CATEGORIES and not _CATEGORY.fullmatch(item):
            report.fail(
                path,
                f"{item!r} is not a category name, a pattern ending in '.*', or '*'",
            )
        if item in value[:index]:
            report.fail(path, f"{item!r} is listed twice")
    if ALL_CATEGORIES in value and len(value) > 1:
        report.fail((pid, "categories"), "'*' already allows every category; list it alone")
    return frozenset(value)


def _flag(report: _Reporter, pid: str, spec: dict[Any, Any], key: str) -> bool:
    value = spec.get(key, False)
    if not isinstance(value, bool):
        report.fail((pid, key), f"must be true or false, got {value!r}")
    return value


def _retention_days(report: _Reporter, pid: str, spec: dict[Any, Any]) -> int:
    value = spec.get("retention_days", DEFAULT_RETENTION_DAYS)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        report.fail((pid, "retention_days"), f"must be a positive number of days, got {value!r}")
    return value


def _min_cohort(report: _Reporter, pid: str, spec: dict[Any, Any]) -> int:
    value = spec.get("min_cohort", DEFAULT_MIN_COHORT)
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 10_000:
        report.fail((pid, "min_cohort"), f"must be a whole number from 2 to 10000, got {value!r}")
    return value


def _export_threshold(report: _Reporter, pid: str, spec: dict[Any, Any]) -> int | None:
    value = spec.get("export_threshold")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        report.fail((pid, "export_threshold"), f"must be a positive number, got {value!r}")
    return value


def _positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _differential_privacy(
    report: _Reporter, pid: str, spec: dict[Any, Any]
) -> DifferentialPrivacy | None:
    value = spec.get("differential_privacy")
    if value is None or value is False:
        return None
    path = (pid, "differential_privacy")
    if not isinstance(value, dict) or set(value) != set(DP_KEYS):
        report.fail(path, f"expected a mapping with exactly {', '.join(DP_KEYS)}")
    per_query, per_period, days = (value[key] for key in DP_KEYS)
    if not _positive_number(per_query) or not _positive_number(per_period):
        report.fail(path, "epsilon_per_query and epsilon_per_period must be positive numbers")
    if per_query > per_period:
        report.fail(path, "epsilon_per_query cannot exceed epsilon_per_period")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        report.fail((*path, "period_days"), f"must be a whole number from 1 to 366, got {days!r}")
    return DifferentialPrivacy(float(per_query), float(per_period), days)


def _parse_purpose(report: _Reporter, purpose_id: Any, spec: Any) -> Purpose:
    if not isinstance(purpose_id, str) or not PURPOSE_ID.fullmatch(purpose_id):
        report.fail(
            (str(purpose_id),),
            "a purpose id is a lowercase letter followed by 1 to 63 lowercase letters, "
            "digits or underscores",
        )
    pid = purpose_id
    if not isinstance(spec, dict):
        report.fail((pid,), "expected a mapping")
    for key in spec:
        if key not in PURPOSE_KEYS:
            report.fail((pid, str(key)), f"unknown key; expected any of {', '.join(PURPOSE_KEYS)}")
    name_zh = _name(report, pid, spec, "name_zh")
    name_en = _name(report, pid, spec, "name_en")
    legal_basis = _legal_basis(report, pid, spec)
    categories = _categories(report, pid, spec)
    flags = {key: _flag(report, pid, spec, key) for key in FLAGS}
    return Purpose(
        id=pid,
        name_zh=name_zh,
        name_en=name_en,
        legal_basis=legal_basis,
        categories=categories,
        third_party=flags["third_party"],
        public_disclosure=flags["public_disclosure"],
        cross_border=flags["cross_border"],
        marketing=flags["marketing"],
        automated_decision=flags["automated_decision"],
        retention_days=_retention_days(report, pid, spec),
        min_cohort=_min_cohort(report, pid, spec),
        differential_privacy=_differential_privacy(report, pid, spec),
        export_threshold=_export_threshold(report, pid, spec),
    )


def parse_purposes(
    raw: Any, *, source: str = "purposes", text: str | None = None
) -> dict[str, Purpose]:
    """Parse the `purposes:` mapping; a malformed entry refuses the whole file.

    Given `text`, the YAML source `raw` was loaded from, every error names its line as
    `<source> line <n>: purposes.<id>.<field>: <reason>`. Categories are checked for
    shape only; whether they exist is the catalog's business (`validate_policy`).
    """
    report = _Reporter.of(source, text)
    if not isinstance(raw, dict) or not raw:
        report.fail((), "expected a non-empty mapping of purpose id to its definition")
    report.refuse_duplicates()
    purposes: dict[str, Purpose] = {}
    for purpose_id, spec in raw.items():
        purpose = _parse_purpose(report, purpose_id, spec)
        purposes[purpose.id] = purpose
    return purposes


def parse_purposes_text(text: str, *, source: str = "purposes.yaml") -> dict[str, Purpose]:
    """Parse a purposes file (`purposes:` at the top), naming lines in every error."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        _refuse_yaml(source, exc)
    if not isinstance(document, dict):
        msg = f"{source} line 1: expected a mapping with a 'purposes' key"
        raise PolicyFileError(msg)
    for key in document:
        if key != "purposes":
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            found = None if root is None else _entry(root, str(key))
            line = 1 if found is None else _line(found[0])
            msg = f"{source} line {line}: unknown top-level key {key!r}; expected 'purposes'"
            raise PolicyFileError(msg)
    return parse_purposes(document.get("purposes"), source=source, text=text)


def load_purposes_file(path: Path) -> dict[str, Purpose]:
    """Load a purposes file; a bad one is refused with its line and the reason."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_purposes_text(text, source=str(path))
