-- Drop the search indexes of superseded publish attempts, one partition per transaction (autocommit only).
CALL search.drop_superseded(NULL);
