DELETE FROM eval.attributions WHERE ds = %(ds)s;
