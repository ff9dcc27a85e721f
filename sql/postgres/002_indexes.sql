-- birdfeed archive, PostgreSQL: full-text index and lookups by tweet,
-- author and language.
CREATE INDEX tweets_tsv ON tweets USING gin (tsv);
CREATE INDEX tweets_tweet_id ON tweets (tweet_id);
CREATE INDEX tweets_author ON tweets (lower(author), ms, seq);
CREATE INDEX tweets_lang ON tweets (lang, ms, seq);
