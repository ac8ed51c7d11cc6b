INSERT INTO dq.check_results (ds, check_name, target, severity, status, observed, threshold, details)
VALUES (%(ds)s, %(check_name)s, %(target)s, %(severity)s, %(status)s, %(observed)s, %(threshold)s,
        %(details)s);
