"""Offline evaluation: the model against baselines on the same users, and the publish gate.

Modules: `metrics` (metric definitions, numpy), `baselines` (baseline algorithms, numpy), `registry` (the
metric and baseline registries everything else reads), `protocol` (the chronological split), `gate`,
`store` (eval tables, text report), `daily` (the evaluate stage), `report` (the HTML report).
"""
