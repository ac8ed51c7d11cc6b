-- Statistics of the day's clean events just written, before the checks and the features stage read them.
ANALYZE clean.events;
