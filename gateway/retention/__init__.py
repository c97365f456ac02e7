"""Retention (PIPL Art. 19, 47): last activity, lapse, legal holds, erasure of lapsed
customers in audited batches, and the daily schedule. See `gateway.retention.lapse`
for the rule."""
