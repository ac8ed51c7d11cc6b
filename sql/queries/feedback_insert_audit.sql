INSERT INTO dq.load_audit (ds, target, landed, accepted, rejected)
VALUES (%(ds)s, %(target)s, %(landed)s, %(accepted)s, %(rejected)s);
