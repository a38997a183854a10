"""Bulk import of merchants and service points (CSV or GeoJSON through COPY), and the
synthetic places of the demo and benchmarks, which go through the same importer.

* importer.import_file / import_records - check, stage, insert with grids, report
* rows (reading and checking records), checking (chunks in a thread or a child process),
  staging (the SQL side: staging tables, COPY, the INSERT that assigns grids)
* synth.seed_merchants / seed_service_points - deterministic demo data
"""
