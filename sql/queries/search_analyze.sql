-- Planner statistics of a publish_id's freshly filled search partitions.
SELECT search.analyze(%(publish_id)s);
