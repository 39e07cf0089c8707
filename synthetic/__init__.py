"""Synthetic data: a realistic service desk and CMDB estate of any size, for load tests, benchmarks and demos.

`synthetic.dataset.generate(incidents=N, cis=M)` (or `manage.py generate_data --incidents N --cis M`) creates:

- 16 support groups on three tiers (two service desks, L2 teams, L3 experts) with escalation paths, agents with
  the matching roles, team leads, a manager, a monitoring integration and callers (N / 50, up to 20,000);
  categories and subcategories; a default SLA per ticket kind and priority (the active ones when there are)
  and OLAs for half the groups (`reference`);
- a layered CMDB estate of M CIs and 3 × M relationships — network, hosts, storage, databases, applications
  in business domains, services — each CI supported by a group (`estate`);
- N tickets (85 % incidents, 15 % cases) opened over `days` days up to now, weekdays busier than weekends and
  nights, with priorities skewed to P3/P4, six channels, services and their CIs, and whole lifecycles: triage
  by a service desk or routing to the service's group, hand-overs and escalations, acceptance, holds,
  comments and work notes, completion, reopens, closure by the caller or automatically. Their histories,
  SLA/OLA clocks, pauses, warnings and breaches are what the services would have written (`tickets`).

Numbers continue the application's numbering of INC, CS and CI (`itsm.numbering`: the PostgreSQL sequences,
moved past the generated numbers after loading, or the `NumberSequence` counters on SQLite), so the application
keeps numbering new records after them. On PostgreSQL rows are loaded with COPY, streamed while they are
generated; elsewhere (SQLite in the tests) with `bulk_create`. Then VACUUM ANALYZE and the report rollups are rebuilt.

The generator is an app of its own because it writes every app's tables (people, CMDB, incidents, SLA clocks,
rollups); the core and the process apps never import it. The CMDB part (`estate`) is generic and could serve on
its own.
"""
