-- birdfeed archive, SQLite: lookups by tweet, by author and by language.
CREATE INDEX tweets_tweet_id ON tweets (tweet_id);
CREATE INDEX tweets_author ON tweets (author COLLATE NOCASE, ms, seq);
CREATE INDEX tweets_lang ON tweets (lang, ms, seq);
