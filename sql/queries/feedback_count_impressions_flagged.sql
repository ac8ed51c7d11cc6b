SELECT count(*) FROM feedback_impressions_flagged;
