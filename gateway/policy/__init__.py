"""Policy administration: controllers, bodies, explain, the change service, store, reload.

Every change — through `/v1/policy/...` or `wardgate policy apply` — goes through
`change_service.apply_policy_change`: reviewed as a whole (`policies.review`), refused with
every problem named, checked against the version it was prepared on, stored as a new
immutable version with its diff, and audited in the same transaction.
"""
