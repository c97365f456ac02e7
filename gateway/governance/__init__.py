"""The governed call: caller to field plan, consent gate, free-text plans, plan warm-up."""
