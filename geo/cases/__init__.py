"""Cases: report, route, act through the workflow, trail, query, statistics, demo data.

Where to start (all async, ``session`` first, keyword-only after; the caller commits):

* reporting.report_case           - validate, route, insert idempotently, possible duplicates
* transitions.act                 - one workflow action: lock, permission, version, table,
                                    side effects (effects.py), one chained event
* audit.case_trail                - a case's events and whether their hash chain verifies
* queries                         - get_case, list_cases (filters, keyset pages), batch loaders
* stats.case_stats                - the evaluation indicators, grouped, in SQL
* ledger                          - the meeting ledger (台账) and its conversion into cases
* synth.seed_cases                - a year of demo cases (17,182 received) and demo users

Pure rules: workflow.py (the transition table), categories.py (time limits), worktime.py
(working-time clock), chain.py (hash chain), routing.py's reasons. Failures a caller can act
on are geo.errors.DomainError subclasses (errors.py, workflow.py, and next to their feature).
"""
