"""PII detection in free text, offline, for Chinese and English.

`build_detector()` makes a presidio `AnalyzerEngine` with our own recognizers (mainland
resident IDs, phones, bank cards, credit codes, travel documents, plates, e-mail, IP,
names, addresses) and a model-free NLP engine; `PiiDetector.detect` and `detect_many`
return `DetectedEntity` spans. `ENTITY_CATEGORY` maps each entity type to the data
category a field plan masks it as. Nothing is downloaded, at build or at run time.
"""

from masking.detection._detector import CHUNK_CHARS, SCORE_THRESHOLD, PiiDetector, build_detector
from masking.detection._entities import ENTITY_CATEGORY, ENTITY_TYPES, DetectedEntity
from masking.detection._errors import DetectionError, UnsupportedLanguageError
from masking.detection._nlp import LANGUAGES

__all__ = [
    "CHUNK_CHARS",
    "ENTITY_CATEGORY",
    "ENTITY_TYPES",
    "LANGUAGES",
    "SCORE_THRESHOLD",
    "DetectedEntity",
    "DetectionError",
    "PiiDetector",
    "UnsupportedLanguageError",
    "build_detector",
]
