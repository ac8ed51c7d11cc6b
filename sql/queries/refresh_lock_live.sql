-- The live publish a refresh overlays, read under FOR SHARE on the pointer row: a publish (or republish) takes
-- FOR UPDATE on the same row first, so refreshes and publishes never interleave, and the pointer cannot move
-- until the refresh commits. No row: nothing is published yet.
SELECT c.ds, c.publish_id, p.model_id, g.artifact_uri, g.status
FROM recs.current c
JOIN recs.published p ON p.ds = c.ds AND p.publish_id = c.publish_id
JOIN models.registry g ON g.model_id = p.model_id
FOR SHARE OF c;
