"""The status machine of a data subject's request, and the words it is spoken in.

received → verified → in_progress → completed; refused (with a reason word and a text,
PIPL Art. 50) or canceled from any open status. Anything else is a 409 naming the
current status.
"""

from __future__ import annotations

from enum import StrEnum

from gateway.http.errors import Conflict


class RequestType(StrEnum):
    ACCESS = "access"  # Art. 45: view and copy
    PORTABILITY = "portability"  # Art. 45: a machine-readable copy to transfer
    CORRECTION = "correction"  # Art. 46
    DELETION = "deletion"  # Art. 47
    EXPLANATION = "explanation"  # Art. 48


PACKAGE_TYPES = frozenset({RequestType.ACCESS, RequestType.PORTABILITY, RequestType.EXPLANATION})
"""Types whose fulfilment leaves a package the DPO downloads for the person."""


class Status(StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REFUSED = "refused"
    CANCELED = "canceled"


OPEN = frozenset({Status.RECEIVED, Status.VERIFIED, Status.IN_PROGRESS})


class Action(StrEnum):
    FILE = "file"
    VERIFY = "verify"
    START = "start"
    FULFIL = "fulfil"
    FAIL = "fail"
    REFUSE = "refuse"
    CANCEL = "cancel"
    EXTEND = "extend"
    DOWNLOAD = "download"


_MOVES: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.VERIFY: (frozenset({Status.RECEIVED}), Status.VERIFIED),
    Action.START: (frozenset({Status.VERIFIED}), Status.IN_PROGRESS),
    Action.FULFIL: (frozenset({Status.IN_PROGRESS}), Status.COMPLETED),
    Action.FAIL: (frozenset({Status.IN_PROGRESS}), Status.IN_PROGRESS),
    Action.REFUSE: (OPEN, Status.REFUSED),
    Action.CANCEL: (OPEN, Status.CANCELED),
    # Extending moves the due date and keeps the status.
    Action.EXTEND: (OPEN, None),
    Action.DOWNLOAD: (frozenset({Status.COMPLETED}), None),
}


class RefusalReason(StrEnum):
    """Why a request is refused (PIPL Art. 50: the person is told why)."""

    IDENTITY_NOT_VERIFIED = "identity_not_verified"
    NOT_THE_SUBJECT = "not_the_subject"
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded"
    EXCESSIVE = "excessive"
    LEGAL_HOLD = "legal_hold"
    LEGAL_OBLIGATION = "legal_obligation"
    OTHER = "other"


class VerificationMethod(StrEnum):
    """How the person's identity was verified; only a hash of the evidence is kept."""

    ID_DOCUMENT = "id_document"
    PHONE_OTP = "phone_otp"
    ACCOUNT_LOGIN = "account_login"
    IN_PERSON = "in_person"


class WrongStatus(Conflict):
    reason = "wrong_status"


def next_status(current: Status, action: Action) -> Status:
    """The status after `action`; 409 `wrong_status` (with the current one) if the
    machine does not allow it from `current`."""
    allowed, target = _MOVES[action]
    if current not in allowed:
        msg = f"a request that is {current.value} cannot be asked to {action.value}"
        raise WrongStatus(msg, extensions={"current_status": current.value})
    return target or current
