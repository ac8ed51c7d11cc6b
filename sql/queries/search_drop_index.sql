-- Drop what an earlier attempt left under this publish_id, one partition per transaction (autocommit only).
CALL search.drop_index(%(publish_id)s);
