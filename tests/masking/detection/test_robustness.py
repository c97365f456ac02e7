"""Arbitrary text never breaks the detector or its invariants."""

import random

from masking.detection import PiiDetector
from masking.detection._text import SEPARATOR

# Characters that drive the recognizers: digits, surname and level-marker characters,
# context words' characters, Latin letters, punctuation, the batch separator, and a
# lone surrogate (what invalid UTF-8 decoded with surrogateescape looks like).
_ALPHABET = (
    "0123456789" * 4
    + "王李张欧阳司马客户联系人先生女士来电手机号身份证卡银行地址省市区县路号室"
    + "ABCDEHLMXabcxyz@.:-+ ，。：；（）()\n\t"
    + SEPARATOR
    + "\udc80"
)


def test_given_random_text_then_no_error_and_invariants_hold(detector: PiiDetector) -> None:
    rng = random.Random(6)
    texts = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 80))) for _ in range(300)]
    results = detector.detect_many(texts)
    for text, entities in zip(texts, results, strict=True):
        assert entities == detector.detect(text)
        previous_end = 0
        for entity in entities:
            assert previous_end <= entity.start < entity.end <= len(text)
            previous_end = entity.end
