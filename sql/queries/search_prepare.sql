-- Create a publish_id's empty search partitions (invisible to recs.search until recs.current points at the
-- publish_id); say how this database stores vectors.
SELECT search.prepare(%(publish_id)s), search.vector_kind();
