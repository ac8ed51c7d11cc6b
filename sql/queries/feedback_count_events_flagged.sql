SELECT count(*) FROM feedback_events_flagged;
