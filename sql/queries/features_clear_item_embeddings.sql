DELETE FROM features.item_embeddings WHERE ds = %(ds)s AND model_id = %(model_id)s;
