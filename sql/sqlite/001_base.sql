-- birdfeed archive, SQLite: the base schema.
-- One row per Redis stream entry. The stream id "<ms>-<seq>" is kept as two
-- integers, as text, and folded into the row id rid = ms * 2^20 + seq, so rows
-- and the full-text index both sort as the stream does (newest first is a
-- backwards rowid scan, even inside a full-text match). `words` is the
-- searchable text birdfeed derives from the tweet (text, hashtags, mentions,
-- author), already split into lower-case words, so both engines tokenise it
-- the same way.
CREATE TABLE schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE tweets (
    rid        INTEGER PRIMARY KEY,          -- ms * 1048576 + seq: stream order; the FTS rowid
    ms         INTEGER NOT NULL,             -- stream id, milliseconds part
    seq        INTEGER NOT NULL,             -- stream id, sequence part
    id         TEXT NOT NULL,                -- stream id as text ("<ms>-<seq>")
    tweet_id   TEXT NOT NULL,
    author     TEXT,                         -- user.screen_name
    lang       TEXT,
    created_at TEXT,                         -- ISO 8601 UTC
    text       TEXT NOT NULL,
    words      TEXT NOT NULL,
    json       TEXT NOT NULL                 -- the canonical tweet
);

CREATE VIRTUAL TABLE tweets_fts USING fts5(
    words,
    content = 'tweets',
    content_rowid = 'rid',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER tweets_fts_insert AFTER INSERT ON tweets BEGIN
    INSERT INTO tweets_fts (rowid, words) VALUES (new.rid, new.words);
END;

CREATE TRIGGER tweets_fts_delete AFTER DELETE ON tweets BEGIN
    INSERT INTO tweets_fts (tweets_fts, rowid, words) VALUES ('delete', old.rid, old.words);
END;
