"""Names in English text: capitalised words that a title, a label or a verb marks.

Capitalised words alone mean little (sentence starts, products, places), so a name is
reported only next to evidence: a title ("Mr. Smith", the title left out of the span),
a label or salutation ("Name: Jane Doe", "Dear Jane", "spoke with Jane Doe"), or a
verb right after it ("Jane Doe called"). Pinyin names ("Wang Jianguo") are found the
same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from masking.detection._text import trie_regex, words
from masking.detection.recognizers._base import Finding, WardgateRecognizer

__all__ = ["EnglishPersonRecognizer"]

_WORD = r"(?:[A-Z]')?[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?"
_NAME = rf"{_WORD}(?: [A-Z]\.)?(?: {_WORD}){{0,2}}"
_TITLES = r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam"
_LABELS = (
    r"name|full name|customer|client|contact|caller|recipient|cardholder|card holder"
    r"|account holder|applicant|guardian|patient|member|user|dear|hi|hello|attn|attention"
    r"|spoke with|spoke to|talked to|talked with|called by|signed by|requested by"
    r"|submitted by|handled by|regards|sincerely|thanks|cc|from"
)
_VERBS = (
    r"called|phoned|rang|emailed|e-mailed|wrote|said|says|asked|requested|reported"
    r"|complained|confirmed|visited|mentioned|stated|explained|agreed|declined|wants"
    r"|wanted|needs|would like|will|has requested|has asked|has called|returned"
)
_PATTERN = re.compile(
    rf"(?:\b(?:{_TITLES})\.? (?P<titled>{_NAME})"
    rf"|(?i:\b{trie_regex(_LABELS.split('|'))})[ \t]*[:,-]?[ \t]*(?!(?:{_TITLES})\b)"
    rf"(?P<labelled>{_NAME})"
    rf"|\b(?P<acting>{_NAME}) {trie_regex(_VERBS.split('|'))}\b)"
)
_CAPITALISED = re.compile("[A-Z][a-z]")
# Capitalised words that start sentences or name things, never a person here.
_NOT_NAMES = frozenset(
    words(
        """
    The This That These Those There Here It Its We Our You Your They Their He She His Her I
    A An And Or But If When Then Please Thanks Thank Dear Hi Hello Regards Customer Client
    Contact Caller Order Orders Card Bank Account Support Team Service Services Ticket Note
    Notes Today Tomorrow Yesterday Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    January February March April May June July August September October November December
    Street Road Avenue City County State China Beijing Shanghai Shenzhen Guangzhou Hong Kong
    Email Phone Mobile Address Name Refund Invoice Payment Delivery Package Product Store
    Manager Agent Staff Company Inc Ltd Co Corp Group Department Office Center Centre Mr Mrs
    Ms Dr Prof Sir Madam Miss Visa Mastercard UnionPay Alipay WeChat Apple Google Amazon
    Also Still Just Only Yes No Ok Okay Sorry Following Per Via With From To For On In At
    New Team Teams Best Kind Warm Sincerely Cheers Member User Guardian Patient Applicant
    Holder Cardholder
    Called Phoned Asked Said Requested Reported Complained Confirmed Visited Mentioned Will
    """
    )
)
_TITLED_SCORE = 0.85
_EVIDENCE_SCORE = 0.75


class EnglishPersonRecognizer(WardgateRecognizer):
    ENTITY = "PERSON"
    CONTEXT = ("name", "mr", "mrs", "ms", "miss", "dr", "dear", "customer", "contact", "caller")

    def find(self, text: str) -> Iterator[Finding]:
        if _CAPITALISED.search(text) is None:  # most Chinese text: skip the long scan
            return
        for match in _PATTERN.finditer(text):
            group = next(g for g in ("titled", "labelled", "acting") if match[g] is not None)
            start, end = match.span(group)
            # "New York Office", "Customer Service Team": a capitalised word that is
            # no name makes the whole run something else.
            if any(word.rstrip(".") in _NOT_NAMES for word in text[start:end].split(" ")):
                continue
            score = _TITLED_SCORE if group == "titled" else _EVIDENCE_SCORE
            yield Finding(start, end, score, context_applied=True)
