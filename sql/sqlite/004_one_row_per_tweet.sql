-- birdfeed archive, SQLite: one row per tweet. After a Redis failover a
-- publisher may send a batch again and its entries get new stream ids, so
-- the same tweet can reach the archive twice. The archive keeps the tweet's
-- first entry (here: the lowest stream id) and skips later ones (birdfeed
-- archive counts them as duplicates): rows already archived twice are
-- removed, and the tweet id becomes unique.
DELETE FROM tweets WHERE rid NOT IN (SELECT min(rid) FROM tweets GROUP BY tweet_id);
DROP INDEX tweets_tweet_id;
CREATE UNIQUE INDEX tweets_tweet_id ON tweets (tweet_id);
