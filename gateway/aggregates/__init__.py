"""Privacy-preserving aggregates (`POST /v1/aggregates`): counts, sums and means by
allowed dimensions, with a minimum cohort, complementary suppression, a differencing
rule and, where the purpose says so, differential privacy with a budget in the store."""
