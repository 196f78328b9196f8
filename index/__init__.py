"""Storage and search: the embedded SQLite store and Elasticsearch, behind one protocol."""
