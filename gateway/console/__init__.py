"""The web console at `/console`: server-rendered pages for compliance officers and
security admins over the same use cases as the API (audit reads, access reports,
consent history, policy administration), with database-backed sessions, CSRF tokens,
strict security headers, and an audit entry for every request that reads or changes
something. Chinese (zh-CN) and English.
"""
