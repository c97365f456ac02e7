"""PII detection in free text, offline, for Chinese and English.

`build_detector()` makes a `PiiDetector` with our own recognizers (mainland resident
IDs, phones, bank cards, credit codes, travel documents, plates, e-mail, IP, names,
addresses), a model-free NLP engine and presidio's context and duplicate rules;
`PiiDetector.detect` and `detect_many` return `DetectedEntity` spans. `ENTITY_CATEGORY`
maps each entity type to the data category a field plan masks it as. Nothing is
downloaded, at build or at run time, and presidio is not imported: the presidio
adapter is `masking.detection.presidio` (imported on demand only).
"""

from masking.detection._detector import CHUNK_CHARS, SCORE_THRESHOLD, PiiDetector, build_detector
from masking.detection._entities import ENTITY_CATEGORY, ENTITY_TYPES, DetectedEntity
from masking.detection._errors import DetectionError, UnsupportedLanguageError
from masking.detection._nlp import LANGUAGES
from masking.detection._result import RecognizerFinding

__all__ = [
    "CHUNK_CHARS",
    "ENTITY_CATEGORY",
    "ENTITY_TYPES",
    "LANGUAGES",
    "SCORE_THRESHOLD",
    "DetectedEntity",
    "DetectionError",
    "PiiDetector",
    "RecognizerFinding",
    "UnsupportedLanguageError",
    "build_detector",
]
